"""The "Best rank" ordering and the rank filter of the lead list and API (scoring UI, issue 6).

Adds ``rank_order`` (the rank as a number, A1 = 16 … D4 = 1), kept by the database as a stored
generated column, and the index ``lead_best_rank`` on (rank_order, behaviour_score, created_at,
id), all descending. On PostgreSQL adding a stored generated column rewrites the table under an
exclusive lock; docs/benchmarks.md has the time it takes at 1,000,000 leads.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_visitor_careers_page_view"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="rank_order",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(rank="A1", then=models.Value(16)),
                    models.When(rank="A2", then=models.Value(15)),
                    models.When(rank="A3", then=models.Value(14)),
                    models.When(rank="A4", then=models.Value(13)),
                    models.When(rank="B1", then=models.Value(12)),
                    models.When(rank="B2", then=models.Value(11)),
                    models.When(rank="B3", then=models.Value(10)),
                    models.When(rank="B4", then=models.Value(9)),
                    models.When(rank="C1", then=models.Value(8)),
                    models.When(rank="C2", then=models.Value(7)),
                    models.When(rank="C3", then=models.Value(6)),
                    models.When(rank="C4", then=models.Value(5)),
                    models.When(rank="D1", then=models.Value(4)),
                    models.When(rank="D2", then=models.Value(3)),
                    models.When(rank="D3", then=models.Value(2)),
                    models.When(rank="D4", then=models.Value(1)),
                    default=models.Value(0),
                ),
                output_field=models.SmallIntegerField(),
                verbose_name="rank order",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["-rank_order", "-behaviour_score", "-created_at", "-id"],
                name="lead_best_rank",
            ),
        ),
    ]

"""LeadScore.temperature: a copy of the lead's temperature, for one partial index, leadscore_hot
(the hot leads by score, as the list's "Hot leads this week" view and ``?temperature=hot`` sorted
by score read them).

Without it, "hot by score" walked the scores in order (leadscore_score) and looked each one's
lead up for its temperature: at 1,000,000 leads, 3,692 of them hot, some 14,000 lookups for a page
of 50 (SQL 13 ms p50; the API line missed its 30 ms goal at p95 38 ms, docs/benchmarks.md).

Cost: the index is partial, so a score update writes an entry only for a hot lead (a few per cent
of them); the nightly decay rewrites every score row and so barely feels it. The copy is written
with the lead's temperature, which changes only when a lead crosses a threshold.

Backfill: one UPDATE of the score rows of the leads that are not cold (the column's default).
"""

from django.db import migrations, models


def copy_temperatures(apps, schema_editor):
    LeadScore = apps.get_model("leads", "LeadScore")
    Lead = apps.get_model("leads", "Lead")
    with schema_editor.connection.cursor() as cursor:
        scores = schema_editor.quote_name(LeadScore._meta.db_table)
        leads = schema_editor.quote_name(Lead._meta.db_table)
        cursor.execute(
            f"""UPDATE {scores} SET temperature = l.temperature FROM {leads} l
                WHERE {scores}.lead_id = l.id AND l.temperature <> 'cold'"""
        )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0018_visitor_last_campaign"),
    ]

    operations = [
        migrations.AddField(
            model_name="leadscore",
            name="temperature",
            field=models.CharField(
                choices=[("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")],
                db_default="cold",
                default="cold",
                max_length=4,
                verbose_name="temperature",
            ),
        ),
        migrations.RunPython(copy_temperatures, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="leadscore",
            index=models.Index(
                condition=models.Q(("temperature", "hot")),
                fields=["-behaviour_score", "-lead"],
                name="leadscore_hot",
            ),
        ),
    ]

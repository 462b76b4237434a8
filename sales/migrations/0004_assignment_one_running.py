from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q, Subquery


def close_older_running(apps, schema_editor):
    """Before the constraint: of a lead's running assignments only the newest keeps running; the
    older ones stop when the next one was made (owner changes made outside sales.assignment
    used to leave them running)."""
    Assignment = apps.get_model("sales", "Assignment")
    newer = Assignment.objects.filter(
        lead_id=OuterRef("lead_id"), sla_closed_at__isnull=True
    ).filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id")))
    Assignment.objects.filter(Exists(newer), sla_closed_at__isnull=True).update(
        sla_closed_at=Subquery(newer.order_by("at", "id").values("at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_teams_assignment_sla_notifications"),
    ]

    operations = [
        migrations.RunPython(close_older_running, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("sla_closed_at__isnull", True)),
                fields=("lead",),
                name="assignment_one_running",
            ),
        ),
    ]

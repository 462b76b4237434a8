from django.db import migrations


def backfill(apps, schema_editor):
    """Leads owned before owner changes were recorded as assignments get their running one
    (sales.assignment.assignments_backfill: one INSERT … SELECT, no SLA, no notification)."""
    from sales.assignment import assignments_backfill

    assignments_backfill(
        lead_model=apps.get_model("leads", "Lead"),
        assignment_model=apps.get_model("sales", "Assignment"),
        change_model=apps.get_model("leads", "LeadChange"),
        profile_model=apps.get_model("sales", "RepProfile"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0006_notification_kind_reassigned"),
    ]

    # Reversing leaves the assignments: they describe who owned what.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]

"""The starter tracking rules (capture/starter.py), created once, and the roles' permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from capture.roles import GRANTS
from capture.starter import ensure_starter_rules
from leadcrm.roles import sync_role_permissions


def create_rules(apps, schema_editor):
    ensure_starter_rules(rule_model=apps.get_model("capture", "TrackingRule"))


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now to grant them.
    app_config = apps.get_app_config("capture")
    app_config.models_module = True  # migration app stubs lack it; create_permissions needs it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    sync_role_permissions(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        app_label="capture",
        grants=GRANTS,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0001_initial"),
        ("leadcrm", "0001_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_rules, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]

from django.contrib.auth.management import create_permissions
from django.db import migrations

from leadcrm.roles import sync_role_permissions
from sales.roles import GRANTS
from sales.starter import STARTER_REASONS, ensure_starter_rows


def forwards(apps, schema_editor):
    ensure_starter_rows(
        reason_model=apps.get_model("sales", "RejectionReason"),
        policy_model=apps.get_model("sales", "QualificationPolicy"),
    )
    # Permissions are normally created after all migrations ran; create them now to grant them.
    app_config = apps.get_app_config("sales")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    sync_role_permissions(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        app_label="sales",
        grants=GRANTS,
    )


def backwards(apps, schema_editor):
    apps.get_model("sales", "RejectionReason").objects.filter(
        code__in=[row[0] for row in STARTER_REASONS], rejections__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("leadcrm", "0001_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

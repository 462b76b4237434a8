from django.contrib.auth.management import create_permissions
from django.db import migrations

from leadcrm.roles import sync_role_permissions
from sales.roles import GRANTS

# code, English, German, note required, position. Admins change, add and deactivate them later
# (Qualification rules page, API, admin site).
STARTER_REASONS = [
    ("no-budget", "No budget", "Kein Budget", False, 10),
    ("no-authority", "No authority", "Keine Entscheidungsbefugnis", False, 20),
    ("no-need", "No need", "Kein Bedarf", False, 30),
    ("bad-timing", "Bad timing", "Falscher Zeitpunkt", False, 40),
    ("competitor-chosen", "Competitor chosen", "Für Wettbewerber entschieden", False, 50),
    ("not-reachable", "Not reachable", "Nicht erreichbar", False, 60),
    ("student-job-seeker", "Student / job seeker", "Student / Jobsuchende", False, 70),
    ("duplicate", "Duplicate", "Dublette", False, 80),
    ("other", "Other", "Sonstiges", True, 90),
]


def forwards(apps, schema_editor):
    RejectionReason = apps.get_model("sales", "RejectionReason")
    for code, name, name_de, requires_note, position in STARTER_REASONS:
        RejectionReason.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_de": name_de,
                "requires_note": requires_note,
                "position": position,
            },
        )
    apps.get_model("sales", "QualificationPolicy").objects.get_or_create(pk=1)
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

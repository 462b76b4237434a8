from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["view"]
EDIT = ["view", "add", "change"]
ALL = ["view", "add", "change", "delete"]

# What each role may do with the leads app's models. Which *rows* a role sees is decided in
# leads.selectors.lead_visible_to.
GRANTS = {
    "marketer": {
        "lead": [*EDIT, "transition"],
        "company": EDIT,
        "campaign": ALL,
        "campaigncost": ALL,
        "event": VIEW,
        "stagetransition": VIEW,
        "activity": EDIT,
        "consent": EDIT,
        "opportunity": VIEW,
    },
    "sales_rep": {
        "lead": ["view", "change", "transition"],
        "company": EDIT,
        "campaign": VIEW,
        "event": VIEW,
        "stagetransition": VIEW,
        "activity": EDIT,
        "consent": VIEW,
        "opportunity": EDIT,
    },
    "sales_manager": {
        "lead": [*ALL, "transition"],
        "company": ALL,
        "campaign": VIEW,
        "campaigncost": VIEW,
        "event": VIEW,
        "stagetransition": VIEW,
        "activity": ALL,
        "consent": VIEW,
        "opportunity": ALL,
    },
    "admin": {
        model: [*ALL, "transition"] if model == "lead" else ALL
        for model in [
            "lead",
            "company",
            "campaign",
            "campaigncost",
            "event",
            "stagetransition",
            "activity",
            "consent",
            "opportunity",
        ]
    },
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now to grant them.
    app_config = apps.get_app_config("leads")
    app_config.models_module = True  # migration app stubs lack it; create_permissions needs it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in GRANTS.items():
        group = Group.objects.get(name=role)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="leads", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GRANTS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="leads"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("leadcrm", "0001_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

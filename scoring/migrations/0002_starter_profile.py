"""The starter scoring profile (scoring/starter.py), created once; admins edit it afterwards."""

from django.db import migrations

from scoring.starter import ensure_starter_profile


def create(apps, schema_editor):
    ensure_starter_profile(
        profile_model=apps.get_model("scoring", "ScoringProfile"),
        grade_rule_model=apps.get_model("scoring", "GradeRule"),
        behaviour_rule_model=apps.get_model("scoring", "BehaviourRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_scoring_models")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

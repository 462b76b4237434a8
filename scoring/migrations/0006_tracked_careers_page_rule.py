"""The website tracking records careers pages as their own event kind (capture's starter tracking
rules): the starter profile's job-seeker penalty must apply to those too. Added to the active
profile unless it already scores that kind; an admin's later edits are theirs."""

from django.db import migrations


def add_rule(apps, schema_editor):
    profile = apps.get_model("scoring", "ScoringProfile").objects.filter(is_active=True).first()
    rules = apps.get_model("scoring", "BehaviourRule").objects
    if profile is None or rules.filter(profile=profile, event_kind="careers_page_view").exists():
        return
    position = rules.filter(profile=profile).count()
    rules.create(
        profile=profile,
        name="Careers page (tracked)",
        event_kind="careers_page_view",
        pattern="",
        points=-10,
        frequency="once_ever",
        position=position,
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0005_careers_page_view_kind")]

    operations = [migrations.RunPython(add_rule, migrations.RunPython.noop)]

"""Visitor.last_campaign: the campaign of a visitor's latest hit that carried one, so last-touch
reports count visitors by their last campaign as they count leads by theirs.

No index: the reports select the visitors first seen in their period (the same rows for either
attribution) and group them; an index on last_campaign would serve no report query and would
cost a write on every tracking hit that changes the campaign.

Backfill: the visitors seen so far get their first campaign as their last one (one UPDATE); the
next hit carrying a campaign moves it on.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    Visitor = apps.get_model("leads", "Visitor")
    Visitor.objects.filter(first_campaign__isnull=False).update(last_campaign=F("first_campaign"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0017_lead_score_table"),
    ]

    operations = [
        migrations.AddField(
            model_name="visitor",
            name="last_campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="leads.campaign",
                verbose_name="last campaign",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]

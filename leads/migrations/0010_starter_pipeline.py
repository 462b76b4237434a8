"""The starter pipeline (three open steps) and lost reasons; open opportunities are put on the
step their probability fits."""

from django.db import migrations

from leads.starter import ensure_pipeline_rows


def create(apps, schema_editor):
    PipelineStage = apps.get_model("leads", "PipelineStage")
    LostReason = apps.get_model("leads", "LostReason")
    Opportunity = apps.get_model("leads", "Opportunity")
    ensure_pipeline_rows(stage_model=PipelineStage, reason_model=LostReason)
    stages = list(PipelineStage.objects.order_by("position"))
    open_ = Opportunity.objects.filter(status="open")
    open_.filter(probability__lt=35).update(pipeline_stage=stages[0])
    open_.filter(probability__gte=35, probability__lt=65).update(pipeline_stage=stages[1])
    open_.filter(probability__gte=65).update(pipeline_stage=stages[2])


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_pipeline_stages")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

"""The starter pipeline (three open steps) and lost reasons; open opportunities are put on the
step their probability fits."""

from django.db import migrations

STAGES = [
    ("Discovery", "Bedarfsanalyse", 10, 20),
    ("Proposal", "Angebot", 20, 50),
    ("Negotiation", "Verhandlung", 30, 75),
]
REASONS = [
    ("price", "Price", "Preis", 10),
    ("competitor", "Chose a competitor", "Wettbewerber gewählt", 20),
    ("no-decision", "No decision", "Keine Entscheidung", 30),
    ("timing", "Timing", "Zeitpunkt", 40),
    ("features", "Missing features", "Fehlende Funktionen", 50),
]


def create(apps, schema_editor):
    PipelineStage = apps.get_model("leads", "PipelineStage")
    LostReason = apps.get_model("leads", "LostReason")
    Opportunity = apps.get_model("leads", "Opportunity")
    stages = [
        PipelineStage.objects.create(name=name, name_de=name_de, position=position, probability=p)
        for name, name_de, position, p in STAGES
    ]
    for code, name, name_de, position in REASONS:
        LostReason.objects.create(code=code, name=name, name_de=name_de, position=position)
    open_ = Opportunity.objects.filter(status="open")
    open_.filter(probability__lt=35).update(pipeline_stage=stages[0])
    open_.filter(probability__gte=35, probability__lt=65).update(pipeline_stage=stages[1])
    open_.filter(probability__gte=65).update(pipeline_stage=stages[2])


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_pipeline_stages")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

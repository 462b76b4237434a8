"""The rows a fresh installation starts with: the opportunity pipeline's steps and the reasons a
deal is lost. Written by a data migration and again after every migrate or flush (a flushed test
database loses migration data), without touching what admins changed."""

# English, German, position, probability (%).
STARTER_STAGES = [
    ("Discovery", "Bedarfsanalyse", 10, 20),
    ("Proposal", "Angebot", 20, 50),
    ("Negotiation", "Verhandlung", 30, 75),
]
# code, English, German, position.
STARTER_LOST_REASONS = [
    ("price", "Price", "Preis", 10),
    ("competitor", "Chose a competitor", "Wettbewerber gewählt", 20),
    ("no-decision", "No decision", "Keine Entscheidung", 30),
    ("timing", "Timing", "Zeitpunkt", 40),
    ("features", "Missing features", "Fehlende Funktionen", 50),
]


def ensure_pipeline_rows(*, stage_model, reason_model) -> None:
    """The starter steps and lost reasons, if there are none yet (models may be historical)."""
    if not stage_model.objects.exists():
        stage_model.objects.bulk_create(
            stage_model(name=name, name_de=name_de, position=position, probability=probability)
            for name, name_de, position, probability in STARTER_STAGES
        )
    if not reason_model.objects.exists():
        reason_model.objects.bulk_create(
            reason_model(code=code, name=name, name_de=name_de, position=position)
            for code, name, name_de, position in STARTER_LOST_REASONS
        )

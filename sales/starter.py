"""The rows a fresh installation starts with: the rejection reasons and the acceptance policy.
Written by a data migration and again after every migrate or flush (a flushed test database
loses migration data), without touching what admins changed."""

# code, English, German, note required, position.
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


def ensure_starter_rows(*, reason_model, policy_model) -> None:
    """The starter reasons and the policy row, if there are none yet (models may be historical)."""
    if not reason_model.objects.exists():
        reason_model.objects.bulk_create(
            reason_model(
                code=code, name=name, name_de=name_de, requires_note=note, position=position
            )
            for code, name, name_de, note, position in STARTER_REASONS
        )
    policy_model.objects.get_or_create(pk=1)

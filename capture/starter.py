"""The tracking rules a new installation starts with (English and German page paths)."""

STARTER_RULES = [
    ("/pricing*", "pricing_page_view", 10),
    ("/preise*", "pricing_page_view", 20),
    ("/careers*", "careers_page_view", 30),
    ("/karriere*", "careers_page_view", 40),
    ("/jobs*", "careers_page_view", 50),
]


def ensure_starter_rules(*, rule_model) -> int:
    """Create the starter rules when there are no rules at all; returns how many it created."""
    if rule_model.objects.exists():
        return 0
    rule_model.objects.bulk_create(
        rule_model(pattern=pattern, kind=kind, position=position)
        for pattern, kind, position in STARTER_RULES
    )
    return len(STARTER_RULES)

"""What each role may do with the scoring app's models. Everyone who works with leads may read
the rules that grade them; changes go through the scoring services (admins)."""

MODELS = [
    "scoringprofile",
    "profileversion",
    "graderule",
    "behaviourrule",
    "scoreentry",
    "mqlreview",
]

GRANTS: dict[str, dict[str, list[str]]] = {
    role: {model: ["view"] for model in MODELS}
    for role in ("marketer", "sales_rep", "sales_manager", "admin")
}

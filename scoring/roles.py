"""What each role may do with the scoring app's models. Everyone who works with leads may read
the rules that grade them; admins change them (through the scoring services: previews and saves
of a whole profile, see scoring.proposals)."""

MODELS = [
    "scoringprofile",
    "profileversion",
    "graderule",
    "behaviourrule",
    "scoreentry",
    "mqlreview",
    "rescoring",
]

GRANTS: dict[str, dict[str, list[str]]] = {
    role: {model: ["view"] for model in MODELS}
    for role in ("marketer", "sales_rep", "sales_manager")
}
GRANTS["admin"] = {
    **{model: ["view"] for model in MODELS},
    "scoringprofile": ["view", "change"],
    "graderule": ["view", "add", "change", "delete"],
    "behaviourrule": ["view", "add", "change", "delete"],
    "rescoring": ["view", "add"],
}

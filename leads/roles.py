"""What each role may do with the leads app's models. Which *rows* a role sees is decided in
leads.selectors.lead_visible_to."""

VIEW = ["view"]
EDIT = ["view", "add", "change"]
ALL = ["view", "add", "change", "delete"]
MODELS = [
    "lead",
    "company",
    "campaign",
    "campaigncost",
    "event",
    "stagetransition",
    "activity",
    "consent",
    "opportunity",
    "visitor",
    "pipelinestage",
    "lostreason",
]

GRANTS: dict[str, dict[str, list[str]]] = {
    "marketer": {
        "lead": [*EDIT, "transition"],
        "company": EDIT,
        "campaign": ALL,
        "campaigncost": ALL,
        # Events through the batch API (POST /api/v1/events/).
        "event": ["view", "add"],
        "stagetransition": VIEW,
        "activity": EDIT,
        "consent": EDIT,
        "opportunity": VIEW,
        "visitor": VIEW,
        "pipelinestage": VIEW,
        "lostreason": VIEW,
    },
    "sales_rep": {
        "lead": ["view", "change", "transition"],
        "company": EDIT,
        "campaign": VIEW,
        "event": VIEW,
        "stagetransition": VIEW,
        "activity": EDIT,
        "consent": VIEW,
        "opportunity": EDIT,
        "pipelinestage": VIEW,
        "lostreason": VIEW,
    },
    "sales_manager": {
        "lead": [*ALL, "transition"],
        "company": ALL,
        "campaign": VIEW,
        "campaigncost": VIEW,
        "event": VIEW,
        "stagetransition": VIEW,
        "activity": ALL,
        "consent": VIEW,
        "opportunity": ALL,
        "visitor": VIEW,
        # Managers shape their pipeline: its steps and the reasons deals are lost.
        "pipelinestage": ALL,
        "lostreason": ALL,
    },
    "admin": {model: [*ALL, "transition"] if model == "lead" else ALL for model in MODELS},
}

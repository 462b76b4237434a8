"""What each role may do with the sales app's models. Which leads (and so which qualifications,
activities and rejections) a user reaches is decided by leads.selectors.lead_visible_to."""

GRANTS: dict[str, dict[str, list[str]]] = {
    "marketer": {
        "qualification": ["view"],
        "qualificationpolicy": ["view"],
        "rejectionreason": ["view"],
        "rejection": ["view"],
    },
    "sales_rep": {
        "qualification": ["view", "add", "change"],
        "qualificationpolicy": ["view"],
        "rejectionreason": ["view"],
        "rejection": ["view", "add"],
    },
    "sales_manager": {
        "qualification": ["view", "add", "change"],
        "qualificationpolicy": ["view", "change"],
        "rejectionreason": ["view"],
        "rejection": ["view", "add"],
    },
    "admin": {
        "qualification": ["view", "add", "change"],
        "qualificationpolicy": ["view", "change"],
        "rejectionreason": ["view", "add", "change", "delete"],
        "rejection": ["view", "add"],
    },
}

"""What each role may do with the reporting app's models. Which figures a user sees is decided
in reporting.selectors.report_scope (a sales rep: their own leads only)."""

GRANTS: dict[str, dict[str, list[str]]] = {
    "marketer": {"exchangerate": ["view", "add", "change"]},
    "sales_rep": {"exchangerate": ["view"]},
    "sales_manager": {"exchangerate": ["view"]},
    "admin": {"exchangerate": ["view", "add", "change", "delete"]},
}

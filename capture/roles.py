"""What each role may do with the capture app's models: marketers and admins configure the
website tracking."""

ALL = ["view", "add", "change", "delete"]

GRANTS: dict[str, dict[str, list[str]]] = {
    "marketer": {"trackingrule": ALL},
    "admin": {"trackingrule": ALL},
}

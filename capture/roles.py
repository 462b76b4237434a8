"""What each role may do with the capture app's models: marketers and admins configure the
website tracking."""

ALL = ["view", "add", "change", "delete"]

# Capture forms: marketers and admins build them and see submissions and the e-mails sent;
# everyone else sees none of it (a rep works leads, whatever form they came from).
FORMS = {
    "captureform": ALL,
    "formfield": ALL,
    "formsubmission": ["view"],
    "outboundemail": ["view"],
}

GRANTS: dict[str, dict[str, list[str]]] = {
    "marketer": {"trackingrule": ALL, **FORMS},
    "admin": {"trackingrule": ALL, **FORMS},
}

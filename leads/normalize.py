"""The canonical forms leads and companies are deduplicated on."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _idna(domain: str, *, field: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError({field: _("Enter a valid domain name.")}) from exc


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased, domain IDNA-encoded: `` Max@Bücher.DE`` → ``max@xn--bcher-kva.de``.

    Local parts are case-sensitive by the RFC but not in practice; treating them so is what keeps
    "Max@…" and "max@…" one lead.
    """
    email = email.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return email
    return f"{local}@{_idna(domain.rstrip('.'), field='email')}"


def normalize_domain(value: str) -> str:
    """A company's web domain as typed or pasted (``https://www.Acme.com/about``) → ``acme.com``."""
    domain = value.strip().lower()
    for prefix in ("https://", "http://", "//"):
        if domain.startswith(prefix):
            domain = domain[len(prefix) :]
    domain = domain.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    domain = domain.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    domain = domain.removeprefix("www.")
    return _idna(domain, field="domain") if domain else ""

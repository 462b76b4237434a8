"""Validation of what the tracking script sends to ``/t/e``: every field checked at the edge,
before anything reaches the buffer."""

import json
import re
import secrets
import time
from typing import Any

from django.utils.translation import gettext as _

VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
URL_MAX = 2000
TITLE_MAX = 300
UTM_MAX = 100
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
FIELDS = ("visitor_id", "url", "referrer", "title", *UTM_FIELDS)
# A page view is a few hundred bytes; anything near this is not from the tracking script.
BODY_MAX = 8192

# What a browser's location.href and document.referrer look like: http(s), an ASCII host (a
# browser sends an international domain as xn--…) or an IPv6 literal, an optional port, then
# anything but white space. A regular expression, because Django's URLValidator costs more than
# the rest of a page view's handling (this runs thousands of times a second).
HTTP_URL = re.compile(
    r"\Ahttps?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?(?:[/?#]\S*)?\Z",
    re.IGNORECASE,
)


def _text(errors: dict, data: dict, name: str, max_length: int, required: bool = False) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        errors[name] = [_("Enter text.")]
        return ""
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > max_length:
        errors[name] = [
            _("Ensure this value has at most %(max)d characters.") % {"max": max_length}
        ]
    elif "\x00" in value:
        errors[name] = [_("Null characters are not allowed.")]
    return value


def _url(errors: dict, data: dict, name: str, required: bool) -> str:
    value = _text(errors, data, name, URL_MAX, required)
    if value and name not in errors and not HTTP_URL.match(value):
        errors[name] = [_("Enter a valid http or https URL.")]
    return value


def parse_page_view(body: bytes) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The buffer record for a page view, or the errors per field (the record is then empty).

    The record carries a random idempotency key: a flush that is repeated after a crash stores
    each page view once.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return {}, {"body": [_("Send a JSON object.")]}
    if not isinstance(data, dict):
        return {}, {"body": [_("Send a JSON object.")]}
    errors: dict[str, list[str]] = {
        str(name)[:50]: [_("Unknown field.")] for name in data if name not in FIELDS
    }
    visitor_id = data.get("visitor_id")
    if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        errors["visitor_id"] = [
            _("Enter 16 to 64 letters, digits, “-” or “_” (the tracking script's visitor id).")
        ]
    record = {
        "key": secrets.token_hex(16),
        "at": time.time(),
        "visitor_id": visitor_id,
        "url": _url(errors, data, "url", required=True),
        "referrer": _url(errors, data, "referrer", required=False),
        "title": _text(errors, data, "title", TITLE_MAX),
    }
    for name in UTM_FIELDS:
        value = _text(errors, data, name, UTM_MAX)
        if value:
            record[name] = value
    if errors:
        return {}, errors
    return record, {}

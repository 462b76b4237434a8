"""The "Score" card on the lead page, added through leads' detail panels (leads/panels.py)."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest

from leads.models import Lead
from scoring.selectors import BREAKDOWN_LIMIT, PointsNow, lead_score_breakdown


@dataclass(frozen=True)
class PointRow:
    point: PointsNow
    where: str  # the event's URL or asset in full (the cell's tooltip)
    where_short: str  # what fits the cell: a URL's path and query, or the asset


def _short(url: str) -> str:
    parts = urlsplit(url)
    short = parts.path + (f"?{parts.query}" if parts.query else "")
    return short if short not in {"", "/"} else parts.netloc or url


def lead_score_panel(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    """The breakdown of ``lead``'s score, in the four queries of lead_score_breakdown."""
    breakdown = lead_score_breakdown(lead=lead)
    rows = []
    for point in breakdown.points:
        event = point.entry.event
        where = event.url or event.asset
        rows.append(PointRow(point, where, _short(event.url) if event.url else event.asset))
    return {
        "breakdown": breakdown,
        "rows": rows,
        "points_cut_off": len(breakdown.points) >= BREAKDOWN_LIMIT,
        "points_limit": BREAKDOWN_LIMIT,
    }

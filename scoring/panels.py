"""The "Score" card on the lead page, added through leads' detail panels (leads/panels.py)."""

from typing import Any

from django.http import HttpRequest

from leads.models import Lead
from scoring.selectors import BREAKDOWN_LIMIT, lead_score_breakdown


def lead_score_panel(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    """The breakdown of ``lead``'s score, in the four queries of lead_score_breakdown."""
    breakdown = lead_score_breakdown(lead=lead)
    return {
        "breakdown": breakdown,
        "points_cut_off": len(breakdown.points) >= BREAKDOWN_LIMIT,
        "points_limit": BREAKDOWN_LIMIT,
    }

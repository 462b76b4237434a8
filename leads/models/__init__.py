"""The leads app's models, one module per subject; every name is importable from here, as
Django and the rest of the code expect (``from leads.models import Lead``)."""

from leads.models.choices import (
    AgeBand,
    Channel,
    CompanySize,
    Grade,
    Industry,
    Language,
    Seniority,
    Temperature,
)
from leads.models.events import Event, EventKey, EventKind, Visitor
from leads.models.history import Activity, AuditEntry, Consent, LeadChange
from leads.models.lead import (
    RANK_ORDER,
    RANKS,
    Campaign,
    CampaignCost,
    Company,
    Lead,
    LeadScore,
    StageTransition,
)
from leads.models.lists import LeadListSettings, SavedView
from leads.models.opportunities import LostReason, NamedInTwoLanguages, Opportunity, PipelineStage

__all__ = [
    "RANKS",
    "RANK_ORDER",
    "Activity",
    "AgeBand",
    "AuditEntry",
    "Campaign",
    "CampaignCost",
    "Channel",
    "Company",
    "CompanySize",
    "Consent",
    "Event",
    "EventKey",
    "EventKind",
    "Grade",
    "Industry",
    "Language",
    "Lead",
    "LeadChange",
    "LeadListSettings",
    "LeadScore",
    "LostReason",
    "NamedInTwoLanguages",
    "Opportunity",
    "PipelineStage",
    "SavedView",
    "Seniority",
    "StageTransition",
    "Temperature",
    "Visitor",
]

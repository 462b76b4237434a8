"""Reads of leads that are more than a ``.get``; every one respects who is asking."""

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from leadcrm.roles import Role, has_role, sees_all_leads
from leads.lifecycle import Stage
from leads.models import Activity, Company, Consent, Event, Lead, Opportunity, StageTransition

TIMELINE_LIMIT = 100


def lead_visible_to(user) -> QuerySet[Lead]:
    """The leads ``user`` may see: all for marketers, managers and admins; for a sales rep the
    leads they own plus the unassigned MQLs they may pick up; nothing for anyone else."""
    leads = Lead.objects.all()
    if sees_all_leads(user):
        return leads
    if has_role(user, Role.SALES_REP):
        return leads.filter(Q(owner=user) | Q(owner__isnull=True, stage=Stage.MQL))
    return leads.none()


def lead_list(*, user) -> QuerySet[Lead]:
    """Leads for list pages and the API, with what each row shows joined in one query."""
    return lead_visible_to(user).select_related("company", "owner", "first_campaign")


def lead_detail(*, user) -> QuerySet[Lead]:
    return lead_visible_to(user).select_related(
        "company", "owner", "first_campaign", "last_campaign"
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition", "event" or "activity": picks the template snippet
    item: StageTransition | Event | Activity


def lead_timeline(*, lead: Lead, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """The newest ``limit`` stage changes, events and activities of a lead, newest first."""
    transitions = lead.transitions.select_related("by_user").order_by("-at", "-id")[:limit]
    events = lead.events.select_related("campaign").order_by("-occurred_at", "-id")[:limit]
    activities = lead.activities.select_related("author").order_by("-created_at", "-id")[:limit]
    entries = chain(
        (TimelineEntry(t.at, "transition", t) for t in transitions),
        (TimelineEntry(e.occurred_at, "event", e) for e in events),
        (TimelineEntry(a.created_at, "activity", a) for a in activities),
    )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def lead_find_by_email(*, email: str, exclude_pk: int | None = None) -> Lead | None:
    leads = Lead.objects.filter(email__iexact=email.strip())
    if exclude_pk is not None:
        leads = leads.exclude(pk=exclude_pk)
    return leads.only("pk", "email", "first_name", "last_name").first()


def company_search(*, query: str, limit: int = 10) -> QuerySet[Company]:
    return Company.objects.filter(name__icontains=query.strip()).order_by("name")[:limit]


def assignable_owners() -> QuerySet:
    """Users a lead can be assigned to: sales reps and sales managers."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def lead_opportunities(*, lead: Lead) -> QuerySet[Opportunity]:
    return lead.opportunities.select_related("owner").order_by("-created_at", "-id")


def lead_consents(*, lead: Lead) -> QuerySet[Consent]:
    return lead.consents.order_by("-recorded_at", "-id")


def lead_is_visible_to(*, user, lead_id: int) -> bool:
    return lead_visible_to(user).filter(pk=lead_id).exists()

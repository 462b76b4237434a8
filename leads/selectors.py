"""Reads of leads that are more than a ``.get``; every one respects who is asking."""

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from binascii import Error as BinasciiError
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext_lazy as _

from leadcrm.paging import capped_count, capped_union_count, rows_in_order, scan_page
from leadcrm.roles import Role, has_role, sees_all_leads
from leads.lifecycle import Stage
from leads.listing import Sort, clean_columns
from leads.models import (
    Activity,
    Company,
    Consent,
    Event,
    Lead,
    LeadChange,
    LeadListSettings,
    Opportunity,
    SavedView,
    StageTransition,
    Visitor,
)
from leads.normalize import normalize_email

TIMELINE_LIMIT = 100


class TimelineFilter(models.TextChoices):
    ALL = "all", _("All")
    STAGE = "stage", _("Stage changes")
    ACTIVITIES = "activities", _("Activities")
    CHANGES = "changes", _("Field changes")


def lead_visible_to(user) -> QuerySet[Lead]:
    """The leads ``user`` may see: all for marketers, managers and admins; for a sales rep the
    leads they own plus the unassigned MQLs they may pick up; nothing for anyone else."""
    leads = Lead.objects.all()
    if sees_all_leads(user):
        return leads
    if has_role(user, Role.SALES_REP):
        return leads.filter(Q(owner=user) | Q(owner__isnull=True, stage=Stage.MQL))
    return leads.none()


def lead_list(
    *, user, joins: Sequence[str] = ("company", "owner"), owner: str | None = None
) -> QuerySet[Lead]:
    """Leads for list pages and the API, with what each row shows (``joins``) in one query.

    ``owner`` is the list's owner filter as sent: when it names the user, every lead it admits
    is visible to them, so a rep's own list skips lead_visible_to's OR, which keeps PostgreSQL
    from reading the page in index order (lead_owner_rank, lead_owner_created).
    """
    if owner is not None and owner == str(user.pk):
        return Lead.objects.filter(owner_id=user.pk).select_related(*joins)
    return lead_visible_to(user).select_related(*joins)


def list_columns(*, user) -> list[str]:
    """The lead list columns ``user`` chose, else the defaults."""
    chosen = LeadListSettings.objects.filter(user=user).values_list("columns", flat=True).first()
    return clean_columns(chosen)


def saved_views(*, user) -> list[SavedView]:
    """The user's own views and those others share, by name."""
    return list(SavedView.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner"))


def lead_detail(*, user) -> QuerySet[Lead]:
    return lead_visible_to(user).select_related(
        "company", "owner", "first_campaign", "last_campaign", "score"
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition", "event", "activity" or "change": picks the template snippet
    item: StageTransition | Event | Activity | LeadChange


def lead_timeline(
    *, lead: Lead, kind: str = TimelineFilter.ALL, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """The newest ``limit`` entries of a lead's history, newest first; ``kind`` narrows it to
    stage changes, activities (with events: what the lead and the team did) or field changes."""
    wanted = {
        TimelineFilter.ALL: {"transition", "event", "activity", "change"},
        TimelineFilter.STAGE: {"transition"},
        TimelineFilter.ACTIVITIES: {"event", "activity"},
        TimelineFilter.CHANGES: {"change"},
    }[TimelineFilter(kind)]
    sources = []
    if "transition" in wanted:
        rows = lead.transitions.select_related("by_user").order_by("-at", "-id")[:limit]
        sources.append(TimelineEntry(t.at, "transition", t) for t in rows)
    if "event" in wanted:
        rows = lead.events.select_related("campaign").order_by("-occurred_at", "-id")[:limit]
        sources.append(TimelineEntry(e.occurred_at, "event", e) for e in rows)
    if "activity" in wanted:
        rows = lead.activities.select_related("author").order_by("-created_at", "-id")[:limit]
        sources.append(TimelineEntry(a.created_at, "activity", a) for a in rows)
    if "change" in wanted:
        rows = lead.changes.select_related("by_user").order_by("-at", "-id")[:limit]
        sources.append(TimelineEntry(c.at, "change", c) for c in rows)
    return sorted(chain(*sources), key=lambda entry: entry.at, reverse=True)[:limit]


def lead_find_by_email(*, user, email: str, exclude_pk: int | None = None) -> Lead | None:
    """The lead with this address among those ``user`` may see: the duplicate warning must not
    reveal leads (or their ids) the user is not allowed to know about."""
    leads = lead_visible_to(user).filter(email_key=normalize_email(email))
    if exclude_pk is not None:
        leads = leads.exclude(pk=exclude_pk)
    return leads.only("pk", "email", "first_name", "last_name").first()


def company_search(*, query: str, limit: int = 10) -> QuerySet[Company]:
    return Company.objects.filter(name__icontains=query.strip()).order_by("name")[:limit]


def assignable_owners(*, for_user=None) -> QuerySet:
    """Users a lead can be assigned to: active sales reps and sales managers. ``for_user`` narrows
    it to whom that user may assign: a sales rep only to themselves."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    if for_user is not None and not sees_all_leads(for_user):
        users = users.filter(pk=for_user.pk)
    return users


def lead_opportunities(*, lead: Lead) -> QuerySet[Opportunity]:
    return lead.opportunities.select_related("owner").order_by("-created_at", "-id")


def lead_consents(*, lead: Lead) -> QuerySet[Consent]:
    return lead.consents.order_by("-recorded_at", "-id")


def lead_is_visible_to(*, user, lead_id: int) -> bool:
    return lead_visible_to(user).filter(pk=lead_id).exists()


@dataclass(frozen=True)
class CampaignVisitors:
    campaign_id: int | None
    campaign_name: str
    visitors: int
    identified: int

    @property
    def conversion_rate(self) -> float | None:
        """Identified visitors per visitor (0.25 for 25 %), None without visitors."""
        return self.identified / self.visitors if self.visitors else None

    @property
    def conversion_percent(self) -> float | None:
        return None if self.conversion_rate is None else 100 * self.conversion_rate


def campaign_visitors(
    *, seen_from: datetime | None = None, seen_until: datetime | None = None
) -> list[CampaignVisitors]:
    """Website visitors per first campaign (``None``: came without a known campaign), how many
    of them identified themselves, and the conversion rate; busiest campaigns first. One
    aggregate query; ``seen_from``/``seen_until`` bound the visitors' first visit."""
    visitors = Visitor.objects.all()
    if seen_from is not None:
        visitors = visitors.filter(first_seen__gte=seen_from)
    if seen_until is not None:
        visitors = visitors.filter(first_seen__lt=seen_until)
    rows = (
        visitors.values("first_campaign", "first_campaign__name")
        .annotate(visitors=Count("id"), identified=Count("lead"))
        .order_by("-visitors", "first_campaign__name")
    )
    return [
        CampaignVisitors(
            campaign_id=row["first_campaign"],
            campaign_name=row["first_campaign__name"] or "",
            visitors=row["visitors"],
            identified=row["identified"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    start: int  # the position of the first lead in the whole list, from 1
    next_cursor: str | None
    previous_cursor: str | None
    count: int  # up to LIST_COUNT_CAP
    capped: bool  # more leads match than counted

    @property
    def end(self) -> int:
        return self.start + len(self.leads) - 1


def _decode_cursor(sort: Sort, cursor: str) -> tuple[int, tuple, bool, int] | None:
    """(phase, values, backwards, start) from a cursor this sort made, else None."""
    try:
        token = json.loads(urlsafe_b64decode(cursor.encode("ascii")))
        phase, raw, backwards, start = token["p"], token["v"], token["r"], token["n"]
        keys = sort.phases[phase].keys
        if len(raw) != len(keys) or not isinstance(backwards, bool) or start < 1:
            return None
        values = tuple(CURSOR_TYPES[key.kind](value) for key, value in zip(keys, raw, strict=True))
    except (BinasciiError, KeyError, IndexError, TypeError, ValueError, UnicodeError):
        return None
    return phase, values, backwards, start


def _encode_cursor(phase: int, row: Lead, sort: Sort, *, backwards: bool, start: int) -> str:
    values = [getattr(row, key.name) for key in sort.phases[phase].keys]
    token = {
        "p": phase,
        "v": [value.isoformat() if isinstance(value, datetime) else value for value in values],
        "r": backwards,
        "n": start,
    }
    return urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode("ascii")


CURSOR_TYPES = {"int": int, "float": float, "str": str, "datetime": datetime.fromisoformat}


def _phase_rows(
    leads: QuerySet[Lead],
    sort: Sort,
    phase: int,
    *,
    after: tuple | None,
    backwards: bool,
    limit: int,
) -> list[Lead]:
    part = sort.phases[phase]
    rows = leads.filter(part.condition) if part.condition is not None else leads
    rows = rows.annotate(**{key.name: key.expression for key in part.keys})
    descending = sort.descending != backwards
    if after is not None:
        position = Tuple(*(F(key.name) for key in part.keys))
        rows = rows.filter((TupleLessThan if descending else TupleGreaterThan)(position, after))
    ordering = [F(key.name).desc() if descending else F(key.name).asc() for key in part.keys]
    return list(rows.order_by(*ordering)[:limit])


def _scanned_rows(
    arms: Sequence[QuerySet[Lead]],
    leads: QuerySet[Lead],
    sort: Sort,
    *,
    after: tuple | None,
    backwards: bool,
    limit: int,
) -> tuple[list[Lead] | None, int, bool]:
    """The page's rows and the capped count from one reading of a search's ``arms``
    (leadcrm.paging.scan_page), for a sort of one phase; rows None when more match than the
    cap: then the page is read from the sort's index."""
    keys = sort.phases[0].keys
    ids, count, capped = scan_page(
        arms,
        [(key.name, key.expression) for key in keys],
        descending=sort.descending != backwards,
        after=after,
        limit=limit,
    )
    if ids is None:
        return None, count, capped
    rows = rows_in_order(leads, ids, **{key.name: key.expression for key in keys})
    return rows, count, capped


def lead_page(
    *,
    leads: QuerySet[Lead],
    sort: Sort,
    cursor: str | None = None,
    size: int = 50,
    counted: QuerySet | None = None,
    search: Sequence[QuerySet[Lead]] | None = None,
) -> LeadPage:
    """One page of ``leads`` in ``sort`` order after (or, going back, before) the cursor's lead:
    keyset paging, as fast on the thousandth page as on the first. A cursor that does not
    decode starts at the first page. ``counted`` is what to count, where cheaper than ``leads``
    (without the columns only the page shows). ``search``: ``leads`` are a search's matches,
    these its arms (leads.filters.LeadFilter.search_arms); the page and the count are then
    read together from them (sorts of one phase)."""
    decoded = _decode_cursor(sort, cursor) if cursor else None
    phase, after, backwards, start = decoded or (0, None, False, 1)
    found: list[tuple[int, Lead]] = []
    counts: tuple[int, bool] | None = None
    scanned = None
    if search and len(sort.phases) == 1:
        scanned, *counted_now = _scanned_rows(
            search, leads, sort, after=after, backwards=backwards, limit=size + 1
        )
        counts = (counted_now[0], counted_now[1])
    if scanned is not None:
        found = [(0, row) for row in scanned]
    else:
        phases = range(phase, -1, -1) if backwards else range(phase, len(sort.phases))
        for current in phases:
            rows = _phase_rows(
                leads,
                sort,
                current,
                after=after if current == phase else None,
                backwards=backwards,
                limit=size + 1 - len(found),
            )
            found += [(current, row) for row in rows]
            if len(found) > size:
                break
    more = len(found) > size
    found = found[:size]
    if backwards:
        if not more:  # back at the beginning: show a whole first page
            return lead_page(leads=leads, sort=sort, size=size, counted=counted, search=search)
        found.reverse()
        start = max(start, 2)
    if counts is None and search:  # a sort of several phases: the matches counted alone
        counts = capped_union_count(search)
    count, capped = counts or capped_count(leads if counted is None else counted)
    has_previous = backwards or decoded is not None
    has_next = (not backwards and more) or backwards
    first_phase, first = found[0] if found else (0, None)
    last_phase, last = found[-1] if found else (0, None)
    return LeadPage(
        leads=[row for _phase, row in found],
        start=start,
        next_cursor=_encode_cursor(last_phase, last, sort, backwards=False, start=start + size)
        if has_next and last is not None
        else None,
        previous_cursor=_encode_cursor(
            first_phase, first, sort, backwards=True, start=max(start - size, 1)
        )
        if has_previous and first is not None
        else None,
        count=count,
        capped=capped,
    )

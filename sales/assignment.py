"""Assignment of MQLs to reps: by the rules, round-robin, within capacity, past away reps;
MQLs that wait for room; reassignment by managers; owner changes made elsewhere recorded as
assignments. The SLA clock it starts is in sales.sla; teams, rules and rep profiles are set in
sales.teams.

Concurrency: the leads of a batch are locked (in id order) before anything else, then the teams
involved (in id order). A team's row lock serialises every round-robin decision in that team,
so two workers never give one lead two owners nor let the counts drift apart.
"""

import heapq
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from leadcrm.roles import Role, has_role
from leads.lifecycle import Stage
from leads.models import Lead, LeadChange, Opportunity
from leads.selectors import lead_visible_to
from leads.services import _check_owner
from sales import notifications
from sales.business_hours import add_business_hours
from sales.models import Assignment, AssignmentRule, Notification, RepProfile, Team
from webhooks import tasks as webhook_tasks
from webhooks.models import EventType
from webhooks.services import webhook_subscribed

# Open leads for capacity: what a rep still has to work.
OPEN_STAGES = [Stage.MQL, Stage.SQL]
ASSIGNABLE_ROLES = [Role.SALES_REP, Role.SALES_MANAGER]
# The calendar of an assignment made outside any team (a manager reassigning to a rep without
# one): the defaults of a new team.
DEFAULT_CALENDAR = {
    "workdays": [0, 1, 2, 3, 4],
    "day_starts": time(9),
    "day_ends": time(17),
    "time_zone": "Europe/Berlin",
}
DEFAULT_SLA_HOURS = 24


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def team_calendar(team: Team | None) -> dict:
    if team is None:
        return DEFAULT_CALENDAR
    return {
        "workdays": team.workdays,
        "day_starts": team.day_starts,
        "day_ends": team.day_ends,
        "time_zone": team.time_zone,
    }


def sla_due(team: Team | None, start: datetime) -> datetime:
    hours = team.sla_hours if team is not None else DEFAULT_SLA_HOURS
    return add_business_hours(start, hours, **team_calendar(team))


def rule_label(rule: AssignmentRule) -> str:
    """What the timeline shows as the assigning rule."""
    return (_("Assignment: %(rule)s") % {"rule": rule.name})[:100]


# --- automatic assignment -----------------------------------------------------------------------


@dataclass(order=True)
class _Seat:
    """A rep in the round-robin heap: fewest leads first, then the longest wait, then the id."""

    count: int
    last: datetime
    tiebreak: int
    profile: RepProfile = field(compare=False)
    load: int = field(compare=False, default=0)

    def has_room(self) -> bool:
        return self.profile.capacity is None or self.load < self.profile.capacity


def _available(now: datetime) -> Q:
    return Q(away=False) | Q(away_until__lte=now)


def _team_seats(teams: dict[int, Team], now: datetime) -> dict[int, list[_Seat]]:
    """The available reps of each team, as round-robin heaps, with their open-lead load (two
    queries for all teams). A rep below the team's level (new, back, or with room again) is
    lifted to it."""
    profiles = list(
        RepProfile.objects.filter(
            _available(now),
            team_id__in=list(teams),
            user__is_active=True,
            user__groups__name__in=ASSIGNABLE_ROLES,
        )
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    loads = dict(
        Lead.objects.filter(owner_id__in=[p.user_id for p in profiles], stage__in=OPEN_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    floor = datetime(1970, 1, 1, tzinfo=UTC)
    seats: dict[int, list[_Seat]] = defaultdict(list)
    for profile in profiles:
        level = teams[profile.team_id].level
        if profile.assigned_count < level:
            profile.assigned_count = level
            profile._changed = True
        seat = _Seat(
            count=profile.assigned_count,
            last=profile.last_assigned_at or floor,
            tiebreak=profile.pk,
            profile=profile,
            load=loads.get(profile.user_id, 0),
        )
        if seat.has_room():
            seats[profile.team_id].append(seat)
    for heap in seats.values():
        heapq.heapify(heap)
    return seats


def _next_rep(heap: list[_Seat], now: datetime, order: itertools.count) -> RepProfile | None:
    while heap:
        seat = heapq.heappop(heap)
        if not seat.has_room():
            continue
        profile = seat.profile
        profile.assigned_count += 1
        profile.last_assigned_at = now
        profile._changed = True
        seat.count, seat.load = profile.assigned_count, seat.load + 1
        # Within one batch every pick happens "now": the pick order breaks the tie instead.
        seat.last, seat.tiebreak = now, next(order)
        if seat.has_room():
            heapq.heappush(heap, seat)
        return profile
    return None


@transaction.atomic
def leads_assign(*, lead_ids: Sequence[int], now: datetime | None = None) -> list[Assignment]:
    """Give each unassigned MQL of ``lead_ids`` to a rep by the rules, oldest MQL first: the
    first active rule (by position) that matches the lead's country and its company's industry
    and whose team has an available rep with room. Leads no rule places stay unassigned, for
    reps to claim and for ``mqls_place_waiting`` to try again.

    A constant number of statements per batch (plus one UPDATE per rep who gets leads); returns
    the assignments made. Leads already owned (claimed meanwhile) are left alone, so running it
    twice assigns nothing twice."""
    now = now or timezone.now()
    locked = list(
        Lead.objects.filter(pk__in=list(lead_ids), stage=Stage.MQL, owner__isnull=True)
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", "country", "company__industry", "stage_changed_at")
    )
    if not locked:
        return []
    # Locked in id order (no deadlocks), dealt oldest MQL first (the longest wait gets a seat).
    locked.sort(key=lambda row: (row[3], row[0]))
    rows = [(pk, country, industry) for pk, country, industry, _since in locked]
    rules = list(AssignmentRule.objects.filter(active=True).order_by("position", "id"))
    candidates = {
        pk: [rule for rule in rules if rule.matches(country=country, industry=industry or "")]
        for pk, country, industry in rows
    }
    team_ids = sorted({rule.team_id for matched in candidates.values() for rule in matched})
    if not team_ids:
        return []
    teams = {
        team.pk: team
        for team in Team.objects.filter(pk__in=team_ids).order_by("pk").select_for_update()
    }
    seats = _team_seats(teams, now)
    order = itertools.count()
    picks: list[tuple[int, RepProfile, AssignmentRule]] = []
    for pk, _country, _industry in rows:
        for rule in candidates[pk]:
            profile = _next_rep(seats.get(rule.team_id, []), now, order)
            if profile is not None:
                picks.append((pk, profile, rule))
                break
    if not picks:
        return []
    return _write_assignments(picks=picks, teams=teams, seats=seats, now=now)


def _write_assignments(
    *,
    picks: list[tuple[int, RepProfile, AssignmentRule]],
    teams: dict[int, Team],
    seats: dict[int, list[_Seat]],
    now: datetime,
) -> list[Assignment]:
    by_owner: dict[int, list[int]] = defaultdict(list)
    for pk, profile, _rule in picks:
        by_owner[profile.user_id].append(pk)
    for owner_id, pks in by_owner.items():
        Lead.objects.filter(pk__in=pks, owner__isnull=True).update(
            owner_id=owner_id, updated_at=now
        )
    # A clock left running by an unassignment not yet recorded stops: one open assignment a lead.
    Assignment.objects.filter(
        lead_id__in=[pk for pk, _profile, _rule in picks], sla_closed_at__isnull=True
    ).update(sla_closed_at=now)
    due = {team_id: sla_due(team, now) for team_id, team in teams.items()}
    assignments = Assignment.objects.bulk_create(
        Assignment(
            lead_id=pk,
            owner_id=profile.user_id,
            team_id=rule.team_id,
            rule=rule,
            rule_name=rule.name,
            at=now,
            sla_due_at=due[rule.team_id],
        )
        for pk, profile, rule in picks
    )
    LeadChange.objects.bulk_create(
        LeadChange(
            lead_id=pk,
            field="owner",
            old_value="",
            new_value=_name(profile.user),
            by_rule=rule_label(rule),
            at=now,
        )
        for pk, profile, rule in picks
    )
    changed = {
        seat.profile.pk: seat.profile
        for heap in seats.values()
        for seat in heap
        if getattr(seat.profile, "_changed", False)
    }
    changed.update({profile.pk: profile for _pk, profile, _rule in picks})
    RepProfile.objects.bulk_update(changed.values(), ["assigned_count", "last_assigned_at"])
    for team_id, team in teams.items():
        counts = [seat.count for seat in seats.get(team_id, []) if seat.has_room()]
        if counts and min(counts) > team.level:
            team.level = min(counts)
            team.save(update_fields=["level"])
    notifications.notify_assigned(assignments=assignments)
    _announce(assignments)
    return assignments


def _announce(assignments: Sequence[Assignment]) -> None:
    """``lead.assigned`` to the webhooks that take it, after commit (one task per lead)."""
    if not assignments or not webhook_subscribed(EventType.LEAD_ASSIGNED):
        return
    events = [
        (
            a.lead_id,
            f"assignment:{a.pk}",
            {
                "id": a.pk,
                "owner": a.owner_id,
                "team": a.team_id,
                "rule": a.rule_id,
                "rule_name": a.rule_name,
                "by_user": a.by_user_id,
                "at": a.at.isoformat(),
                "sla_due_at": a.sla_due_at.isoformat() if a.sla_due_at else None,
            },
        )
        for a in assignments
    ]

    def send() -> None:
        for lead_id, key, details in events:
            webhook_tasks.webhook_event_fan_out.delay(
                EventType.LEAD_ASSIGNED.value, lead_id, None, key, details
            )

    transaction.on_commit(send)


def lead_assign(*, lead_id: int) -> Assignment | None:
    assignments = leads_assign(lead_ids=[lead_id])
    return assignments[0] if assignments else None


# --- leads already owned that become MQLs ------------------------------------------------------


def handover_label() -> str:
    """What the timeline and the assignment show as the maker of an owner's MQL hand-over."""
    return _("MQL hand-over to its owner")[:100]


def _teams_of(owner_ids: set[int]) -> dict[int, Team]:
    """The team of each of ``owner_ids`` that has one (one query)."""
    return {
        profile.user_id: profile.team
        for profile in RepProfile.objects.filter(
            user_id__in=owner_ids, team__isnull=False
        ).select_related("team")
    }


@transaction.atomic
def owned_mqls_hand_over(
    *, lead_ids: Sequence[int], now: datetime | None = None
) -> list[Assignment]:
    """Give the MQLs of ``lead_ids`` that already have an owner (a rep entered or claimed the
    lead before scoring made it an MQL) the hand-over every new MQL gets: an assignment to the
    owner from the MQL time (``stage_changed_at``) with the SLA deadline of the owner's team
    calendar, the timeline entry, the notification "new MQL for you" (and e-mail if they opted
    in) and the ``lead.assigned`` webhook. The owner's earlier running assignment stops: the
    queue, the escalation and the reports count a clock only from an assignment made since the
    lead entered its stage (so a clock of an earlier MQL spell never counts), which is why the
    hand-over is a new assignment rather than a deadline on the old one.

    Idempotent and order-proof: a lead with any assignment since it became an MQL (a rule's, a
    recorded owner change's, an earlier run's) is left alone. A constant number of statements
    per batch; the leads are locked in id order, as everywhere."""
    now = now or timezone.now()
    rows = list(
        Lead.objects.filter(pk__in=list(lead_ids), stage=Stage.MQL, owner__isnull=False)
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", "owner_id", "stage_changed_at")
    )
    if not rows:
        return []
    # Read after the lock: a concurrent run that committed meanwhile is seen.
    handed = set(
        Assignment.objects.filter(
            lead_id__in=[pk for pk, _owner, _since in rows], at__gte=F("lead__stage_changed_at")
        ).values_list("lead_id", flat=True)
    )
    rows = [row for row in rows if row[0] not in handed]
    if not rows:
        return []
    owner_ids = {owner_id for _pk, owner_id, _since in rows}
    owners = get_user_model().objects.in_bulk(owner_ids)
    teams = _teams_of(owner_ids)
    Assignment.objects.filter(
        lead_id__in=[pk for pk, _owner, _since in rows], sla_closed_at__isnull=True
    ).update(sla_closed_at=now)
    label = handover_label()
    assignments = Assignment.objects.bulk_create(
        Assignment(
            lead_id=pk,
            owner_id=owner_id,
            team=teams.get(owner_id),
            rule_name=label,
            at=since,
            sla_due_at=sla_due(teams.get(owner_id), since),
        )
        for pk, owner_id, since in rows
    )
    LeadChange.objects.bulk_create(
        LeadChange(
            lead_id=pk,
            field="owner",
            old_value=_name(owners[owner_id]),
            new_value=_name(owners[owner_id]),
            by_rule=label,
            at=since,
        )
        for pk, owner_id, since in rows
    )
    notifications.notify_assigned(assignments=assignments, kind=Notification.Kind.MQL)
    _announce(assignments)
    return assignments


# --- MQLs that waited for a seat ----------------------------------------------------------------

# Leads per leads_assign call (one transaction, its locks held that long) and per run of the beat.
WAITING_BATCH = 500
WAITING_LIMIT = 5000


def _teams_with_room(now: datetime) -> list[int]:
    """Teams with an available rep below their capacity (one query)."""
    load = (
        Lead.objects.filter(owner_id=OuterRef("user_id"), stage__in=OPEN_STAGES)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        RepProfile.objects.filter(
            _available(now),
            team__isnull=False,
            user__is_active=True,
            user__groups__name__in=ASSIGNABLE_ROLES,
        )
        .annotate(load=Coalesce(Subquery(load), 0))
        .filter(Q(capacity__isnull=True) | Q(load__lt=F("capacity")))
        .order_by("team_id")
        .values_list("team_id", flat=True)
        .distinct()
    )


def _placeable(rules: Sequence[AssignmentRule]) -> Q:
    """Leads one of ``rules`` matches (what AssignmentRule.matches says, in SQL)."""
    condition = Q(pk__in=[])
    for rule in rules:
        if not rule.countries and not rule.industries:
            return Q()  # a rule for everyone: every lead
        matches = Q(country__in=rule.countries) if rule.countries else Q()
        if rule.industries:
            matches &= Q(company__industry__in=rule.industries)
        condition |= matches
    return condition


def mqls_place_waiting(
    *, now: datetime | None = None, batch: int = WAITING_BATCH, limit: int = WAITING_LIMIT
) -> int:
    """Try again the unassigned MQLs no rule could place (every rep full or away): those a rule
    whose team has room again matches, oldest MQL first, through ``leads_assign`` in batches of
    ``batch`` (each its own transaction, with its locks), at most ``limit`` leads a run. Stops
    at the first batch that places nothing (the room is used up). Safe to run twice or beside a
    claim or a manual assignment: leads_assign takes only leads still unowned, under their lock.
    Returns how many leads it placed."""
    now = now or timezone.now()
    teams = _teams_with_room(now)
    if not teams:
        return 0
    rules = list(AssignmentRule.objects.filter(active=True, team_id__in=teams))
    if not rules:
        return 0
    waiting = (
        Lead.objects.filter(_placeable(rules), stage=Stage.MQL, owner__isnull=True)
        .order_by("stage_changed_at", "pk")
        .values_list("stage_changed_at", "pk")
    )
    placed = seen = 0
    after: tuple[datetime, int] | None = None
    while seen < limit:
        page = waiting
        if after is not None:
            page = page.filter(
                Q(stage_changed_at__gt=after[0]) | Q(stage_changed_at=after[0], pk__gt=after[1])
            )
        rows = list(page[: min(batch, limit - seen)])
        if not rows:
            break
        made = len(leads_assign(lead_ids=[pk for _since, pk in rows], now=now))
        if not made:
            break
        placed += made
        seen += len(rows)
        after = rows[-1]
    return placed


# --- by hand ------------------------------------------------------------------------------------


def may_reassign(user: AbstractBaseUser) -> bool:
    return has_role(user, Role.SALES_MANAGER, Role.ADMIN)


def _assign_by_hand(
    *,
    leads: Sequence[tuple[int, str]],
    owner_id: int | None,
    by_user_id: int | None,
    at: datetime,
    closed_at: datetime,
) -> list[Assignment]:
    """The leads' (id, stage) given to ``owner_id`` by a person: the running clocks stop at
    ``closed_at``, and each lead gets an Assignment from ``at`` (an MQL with the SLA deadline of
    the owner's team calendar). No owner: the clocks only stop. Shared by a manager's
    reassignment and the owner changes recorded from the leads app."""
    Assignment.objects.filter(
        lead_id__in=[pk for pk, _stage in leads], sla_closed_at__isnull=True
    ).update(sla_closed_at=closed_at)
    if owner_id is None:
        return []
    team = Team.objects.filter(members__user_id=owner_id).first()
    due = sla_due(team, at)
    return Assignment.objects.bulk_create(
        Assignment(
            lead_id=pk,
            owner_id=owner_id,
            team=team,
            by_user_id=by_user_id,
            at=at,
            sla_due_at=due if stage == Stage.MQL else None,
        )
        for pk, stage in leads
    )


@transaction.atomic
def leads_reassign(
    *, lead_ids: Sequence[int], to_user: AbstractBaseUser, by_user: AbstractBaseUser
) -> list[Assignment]:
    """A manager gives leads to another rep (or manager). Each change is on the lead's timeline
    as made by the manager; an MQL's SLA starts again for the new owner (in their team's
    calendar), and an open opportunity follows its lead; the previous owner is told (not the
    manager, when the lead was their own). Leads the new owner already has are left alone;
    returns the new assignments."""
    if not may_reassign(by_user):
        raise PermissionDenied(_("Only sales managers and admins reassign leads."))
    if not lead_ids:
        raise ValidationError({"lead_ids": _("Choose at least one lead.")})
    _check_owner(by_user=by_user, owner=to_user)
    now = timezone.now()
    leads = list(
        lead_visible_to(by_user)
        .filter(pk__in=list(lead_ids))
        .exclude(owner=to_user)
        .order_by("pk")
        .select_for_update(of=("self",))
        .select_related("owner")
    )
    missing = set(lead_ids) - {lead.pk for lead in leads}
    missing -= set(Lead.objects.filter(pk__in=missing, owner=to_user).values_list("pk", flat=True))
    if missing:
        raise ValidationError(
            {
                "lead_ids": _("No such lead: %(ids)s.")
                % {"ids": ", ".join(map(str, sorted(missing)))}
            }
        )
    if not leads:
        return []
    pks = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=pks).update(owner=to_user, updated_at=now)
    # The open deal follows its lead (the pipeline board filters by owner).
    Opportunity.objects.filter(lead_id__in=pks, status=Opportunity.Status.OPEN).update(
        owner=to_user
    )
    assignments = _assign_by_hand(
        leads=[(lead.pk, lead.stage) for lead in leads],
        owner_id=to_user.pk,
        by_user_id=by_user.pk,
        at=now,
        closed_at=now,
    )
    LeadChange.objects.bulk_create(
        LeadChange(
            lead=lead,
            field="owner",
            old_value=_name(lead.owner) if lead.owner else "",
            new_value=_name(to_user),
            by_user=by_user,
            at=now,
        )
        for lead in leads
    )
    notifications.notify_assigned(assignments=assignments)
    notifications.notify_taken(
        taken=[
            (made, lead.owner_id)
            for lead, made in zip(leads, assignments, strict=True)
            if lead.owner_id is not None and lead.owner_id != by_user.pk
        ]
    )
    _announce(assignments)
    return assignments


# --- owners set elsewhere -----------------------------------------------------------------------


@transaction.atomic
def owner_change_record(
    *, lead_ids: Sequence[int], owner_id: int | None, by_user_id: int | None, at: datetime
) -> list[Assignment]:
    """Make an owner change of the leads app (the lead form and API, the lead list's bulk
    assign, a claim; its timeline entry is written there) an assignment, as a manager's
    reassignment is: the previous clock stops, the new owner gets an Assignment "by" the user
    (for an MQL with the SLA deadline of their team's calendar from ``at``), the notification
    and e-mail (not when they chose the lead themselves) and the ``lead.assigned`` webhook; the
    lead's open opportunity goes to the new owner; the previous owner (of the running
    assignment) hears of it unless they made the change. An unassignment only stops the clock.

    Idempotent and order-proof: a lead that has changed owner again since, that has an
    assignment newer than ``at``, or whose running assignment is already its owner's, is left
    alone (a later change records itself). The leads are locked in id order, as everywhere."""
    rows = list(
        Lead.objects.filter(pk__in=list(lead_ids), owner_id=owner_id)
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", "stage")
    )
    if not rows:
        return []
    if owner_id is not None:
        # The open deal follows its lead's owner, as on a manager's reassignment (the pipeline
        # board filters by owner); won and lost ones keep theirs: they are history. The leads
        # are locked and are the owner's, so this is right however late or often it runs.
        Opportunity.objects.filter(
            lead_id__in=[pk for pk, _stage in rows], status=Opportunity.Status.OPEN
        ).exclude(owner_id=owner_id).update(owner_id=owner_id)
    recorded = list(
        Assignment.objects.filter(
            Q(sla_closed_at__isnull=True) | Q(at__gt=at), lead_id__in=[pk for pk, _ in rows]
        ).values_list("lead_id", "owner_id", "sla_closed_at", "at")
    )
    settled = {
        lead_id
        for lead_id, assigned_to, closed, assigned_at in recorded
        if assigned_at > at or (closed is None and assigned_to == owner_id)
    }
    # The owner of the running assignment this change ends: the one the lead is taken from.
    previous = {
        lead_id: assigned_to for lead_id, assigned_to, closed, _at in recorded if closed is None
    }
    rows = [(pk, stage) for pk, stage in rows if pk not in settled]
    if not rows:
        return []
    assignments = _assign_by_hand(
        leads=rows, owner_id=owner_id, by_user_id=by_user_id, at=at, closed_at=timezone.now()
    )
    if not assignments:  # an unassignment: the clocks only stopped
        return []
    if by_user_id != owner_id:
        notifications.notify_assigned(assignments=assignments)
    notifications.notify_taken(
        taken=[
            (made, previous[made.lead_id])
            for made in assignments
            if previous.get(made.lead_id) not in (None, by_user_id, owner_id)
        ]
    )
    _announce(assignments)
    return assignments


# --- leads owned before assignments were recorded ----------------------------------------------


def assignments_backfill(
    *,
    lead_model: type[models.Model] = Lead,
    assignment_model: type[models.Model] = Assignment,
    change_model: type[models.Model] = LeadChange,
    profile_model: type[models.Model] = RepProfile,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """One running Assignment for every lead that has an owner and none running (leads owned
    before owner changes were recorded as assignments), in one INSERT … SELECT that PostgreSQL
    and SQLite both run: owner the lead's owner, team the owner's team, ``at`` when the lead got
    its current owner as its timeline records it (its latest owner change), else when the lead
    was created (an owner set before the timeline recorded owner changes was set on entry; the
    lead's ``updated_at`` would date it at its last edit instead). No SLA deadline, no
    notification, no timeline entry. A lead given a running assignment meanwhile is skipped (ON
    CONFLICT DO NOTHING), so running it again adds nothing. The models are parameters so the
    data migration passes its historical ones. Returns how many assignments it wrote."""
    connection = connections[using]
    q = connection.ops.quote_name
    lead, assignment = lead_model._meta.db_table, assignment_model._meta.db_table
    change, profile = change_model._meta.db_table, profile_model._meta.db_table
    sql = f"""
        INSERT INTO {q(assignment)}
            ({q("lead_id")}, {q("owner_id")}, {q("team_id")}, {q("rule_id")}, {q("rule_name")},
             {q("by_user_id")}, {q("at")}, {q("sla_due_at")}, {q("sla_closed_at")},
             {q("escalated_at")})
        SELECT l.{q("id")}, l.{q("owner_id")},
            (SELECT p.{q("team_id")} FROM {q(profile)} p
             WHERE p.{q("user_id")} = l.{q("owner_id")}),
            NULL, %s, NULL,
            COALESCE(
                (SELECT MAX(c.{q("at")}) FROM {q(change)} c
                 WHERE c.{q("lead_id")} = l.{q("id")} AND c.{q("field")} = %s),
                l.{q("created_at")}
            ),
            NULL, NULL, NULL
        FROM {q(lead)} l
        WHERE l.{q("owner_id")} IS NOT NULL
          AND NOT EXISTS (
            SELECT 1 FROM {q(assignment)} a
            WHERE a.{q("lead_id")} = l.{q("id")} AND a.{q("sla_closed_at")} IS NULL
          )
        ON CONFLICT DO NOTHING
    """
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(sql, ["", "owner"])
        return cursor.rowcount

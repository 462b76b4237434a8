"""Reads for sales work; every one respects who is asking (leads.selectors.lead_visible_to)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadcrm.roles import Role, has_role
from leads.lifecycle import Stage
from leads.models import Activity, Campaign, Lead, Opportunity, PipelineStage
from leads.selectors import lead_visible_to
from sales.models import (
    Assignment,
    AssignmentRule,
    Notification,
    Qualification,
    QualificationPolicy,
    Rejection,
    RejectionReason,
    RepProfile,
    Team,
)

# "My tasks" shows at most this many open tasks (the oldest due first); more is a backlog to
# clean up, not a page to scroll.
MY_TASKS_LIMIT = 300


def qualification_policy() -> QualificationPolicy:
    policy, _created = QualificationPolicy.objects.get_or_create(pk=1)
    return policy


def lead_qualification(*, lead: Lead) -> Qualification | None:
    return Qualification.objects.select_related("updated_by").filter(lead=lead).first()


def rejection_reasons(*, active_only: bool = True) -> QuerySet[RejectionReason]:
    reasons = RejectionReason.objects.order_by("position", "name", "id")
    return reasons.filter(active=True) if active_only else reasons


def activities_visible_to(user) -> QuerySet[Activity]:
    """Activities on the leads ``user`` may see, with what lists show joined in."""
    return Activity.objects.filter(lead__in=lead_visible_to(user)).select_related(
        "lead", "lead__company", "author", "assignee"
    )


def lead_open_tasks(*, lead: Lead) -> QuerySet[Activity]:
    return (
        lead.activities.filter(kind=Activity.Kind.TASK, done_at__isnull=True)
        .select_related("assignee")
        .order_by("due_at", "id")
    )


def local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start of today and of tomorrow in the current time zone (Europe/Berlin by default)."""
    today = timezone.localtime(now).date()
    zone = timezone.get_current_timezone()
    start = datetime.combine(today, time.min, tzinfo=zone)
    return start, datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)


@dataclass
class MyTasks:
    overdue: list[Activity] = field(default_factory=list)
    today: list[Activity] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    done_today: list[Activity] = field(default_factory=list)
    truncated: bool = False

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming)


def my_tasks(*, user, now: datetime | None = None) -> MyTasks:
    """The user's tasks on leads they may see, in two queries: open ones split into overdue (due
    before now), due later today and upcoming; and the ones they finished today."""
    now = now or timezone.now()
    today_start, tomorrow_start = local_day_bounds(now)
    tasks = activities_visible_to(user).filter(kind=Activity.Kind.TASK, assignee=user)
    open_rows = list(
        tasks.filter(done_at__isnull=True, due_at__isnull=False).order_by("due_at", "id")[
            : MY_TASKS_LIMIT + 1
        ]
    )
    result = MyTasks(truncated=len(open_rows) > MY_TASKS_LIMIT)
    for task in open_rows[:MY_TASKS_LIMIT]:
        if task.due_at < now:
            result.overdue.append(task)
        elif task.due_at < tomorrow_start:
            result.today.append(task)
        else:
            result.upcoming.append(task)
    result.done_today = list(tasks.filter(done_at__gte=today_start).order_by("-done_at", "-id"))
    return result


@dataclass(frozen=True)
class RejectionRow:
    campaign: Campaign | None
    counts: list[int]  # one per reason, in the order of RejectionTable.reasons
    total: int


@dataclass(frozen=True)
class RejectionTable:
    reasons: list[RejectionReason]
    rows: list[RejectionRow]
    totals: list[int]
    total: int


def rejections_by_campaign(
    *, since: date | None = None, until: date | None = None
) -> RejectionTable:
    """Rejected MQLs per first-touch campaign and reason, counted by one SQL aggregate; only
    reasons and campaigns that occur get a column or a row. Dates are local days, inclusive."""
    rejections = Rejection.objects.all()
    if since is not None:
        rejections = rejections.filter(at__date__gte=since)
    if until is not None:
        rejections = rejections.filter(at__date__lte=until)
    counts = list(rejections.values("campaign_id", "reason_id").annotate(n=Count("id")).order_by())
    reason_ids = {row["reason_id"] for row in counts}
    campaign_ids = {row["campaign_id"] for row in counts} - {None}
    reasons = list(RejectionReason.objects.filter(pk__in=reason_ids).order_by("position", "name"))
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=campaign_ids)}
    column = {reason.pk: index for index, reason in enumerate(reasons)}
    cells: dict[int | None, list[int]] = {}
    for row in counts:
        cells.setdefault(row["campaign_id"], [0] * len(reasons))[column[row["reason_id"]]] += row[
            "n"
        ]
    ordered = sorted(
        cells.items(),
        key=lambda item: (-sum(item[1]), item[0] is None, str(campaigns.get(item[0], ""))),
    )
    rows = [
        RejectionRow(campaign=campaigns.get(campaign_id), counts=values, total=sum(values))
        for campaign_id, values in ordered
    ]
    totals = [sum(row.counts[index] for row in rows) for index in range(len(reasons))]
    return RejectionTable(reasons=reasons, rows=rows, totals=totals, total=sum(totals))


# The opportunity pipeline ----------------------------------------------------------------------


ZERO = Decimal(0)


@dataclass
class Column:
    stage: PipelineStage
    cards: list[Opportunity]
    count: int = 0
    total: Decimal = ZERO
    weighted: Decimal = ZERO


def open_opportunities(*, user, owner_id: int | None = None) -> QuerySet[Opportunity]:
    opportunities = Opportunity.objects.filter(
        status=Opportunity.Status.OPEN, lead__in=lead_visible_to(user)
    )
    if owner_id is not None:
        opportunities = opportunities.filter(owner_id=owner_id)
    return opportunities


def pipeline_board(*, user, owner_id: int | None = None) -> list[Column]:
    """The board: a column per active step with its cards (closing soonest first) and totals;
    an opportunity without a step (made before the pipeline existed) sits in the first."""
    stages = list(PipelineStage.objects.filter(active=True))
    if not stages:
        return []
    columns = {stage.pk: Column(stage=stage, cards=[]) for stage in stages}
    first = stages[0].pk
    opportunities = (
        open_opportunities(user=user, owner_id=owner_id)
        .select_related("lead", "lead__company", "owner")
        .order_by(F("expected_close_on").asc(nulls_last=True), "id")
    )
    for opportunity in opportunities:
        columns.get(opportunity.pipeline_stage_id, columns[first]).cards.append(opportunity)
    totals = (
        open_opportunities(user=user, owner_id=owner_id)
        .values("pipeline_stage")
        .annotate(
            count=Count("id"),
            total=Coalesce(Sum("amount"), ZERO),
            weighted=Coalesce(
                Sum(
                    ExpressionWrapper(
                        F("amount") * F("probability") / 100,
                        output_field=DecimalField(max_digits=16, decimal_places=2),
                    )
                ),
                ZERO,
            ),
        )
    )
    for row in totals:
        column = columns.get(row["pipeline_stage"], columns[first])
        column.count += row["count"]
        column.total += row["total"]
        column.weighted += row["weighted"]
    return list(columns.values())


# Assignment, SLA and notifications --------------------------------------------------------------


class SlaState(models.TextChoices):
    NONE = "none", _("No SLA")
    OK = "ok", _("Within SLA")
    OVERDUE = "overdue", _("Overdue")


def _running_clock() -> QuerySet[Assignment]:
    """The lead's latest assignment whose clock still runs, for its current owner, made since
    the lead entered its stage."""
    return Assignment.objects.filter(
        lead=OuterRef("pk"),
        owner=OuterRef("owner_id"),
        sla_closed_at__isnull=True,
        at__gte=OuterRef("stage_changed_at"),
    ).order_by("-at", "-id")


def leads_with_sla(leads: QuerySet[Lead], *, now: datetime | None = None) -> QuerySet[Lead]:
    """``leads`` annotated with ``sla_due_at``, ``sla_escalated_at`` and ``sla_state`` ("none":
    not an MQL or no clock; "ok"; "overdue"): correlated subqueries in the same query, so a page
    of leads costs nothing extra."""
    now = now or timezone.now()
    return leads.annotate(
        sla_due_at=Subquery(_running_clock().values("sla_due_at")[:1]),
        sla_escalated_at=Subquery(_running_clock().values("escalated_at")[:1]),
    ).annotate(
        sla_state=Case(
            When(~Q(stage=Stage.MQL) | Q(sla_due_at__isnull=True), then=Value(SlaState.NONE)),
            When(sla_due_at__lte=now, then=Value(SlaState.OVERDUE)),
            default=Value(SlaState.OK),
            output_field=CharField(),
        )
    )


@dataclass(frozen=True)
class Sla:
    due_at: datetime | None
    state: str
    escalated_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.state == SlaState.OVERDUE


def sla_state_for(leads: Iterable[Lead], *, now: datetime | None = None) -> dict[int, Sla]:
    """The SLA of each lead of a page already loaded, by lead id, in one query."""
    ids = [lead.pk for lead in leads]
    rows = leads_with_sla(Lead.objects.filter(pk__in=ids), now=now).values_list(
        "pk", "sla_due_at", "sla_state", "sla_escalated_at"
    )
    found = {pk: Sla(due, state, escalated) for pk, due, state, escalated in rows}
    return {pk: found.get(pk, Sla(None, SlaState.NONE)) for pk in ids}


@dataclass(frozen=True)
class RepLoad:
    user_id: int
    name: str
    team: str
    open_mqls: int
    open_sqls: int
    capacity: int | None
    away: bool
    overdue: int

    @property
    def open_total(self) -> int:
        return self.open_mqls + self.open_sqls

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.open_total >= self.capacity


def team_load(manager, *, now: datetime | None = None) -> list[RepLoad]:
    """Open MQLs and SQLs (and overdue MQLs) per rep of the teams ``manager`` manages (an admin:
    of every team), by team and name; two queries."""
    now = now or timezone.now()
    profiles = RepProfile.objects.filter(team__isnull=False).select_related("user", "team")
    if not has_role(manager, Role.ADMIN):
        profiles = profiles.filter(team__managers=manager)
    profiles = list(profiles.order_by("team__name", "user__first_name", "user__last_name", "pk"))
    user_ids = [profile.user_id for profile in profiles]
    counts = {
        row["owner_id"]: row
        for row in Lead.objects.filter(owner_id__in=user_ids, stage__in=[Stage.MQL, Stage.SQL])
        .values("owner_id")
        .annotate(
            # distinct: the overdue count joins the assignments (a lead may have several).
            mqls=Count("id", filter=Q(stage=Stage.MQL), distinct=True),
            sqls=Count("id", filter=Q(stage=Stage.SQL), distinct=True),
            overdue=Count(
                "id",
                filter=Q(
                    stage=Stage.MQL,
                    assignments__owner_id=F("owner_id"),
                    assignments__sla_closed_at__isnull=True,
                    assignments__sla_due_at__lte=now,
                    assignments__at__gte=F("stage_changed_at"),
                ),
                distinct=True,
            ),
        )
        .order_by()
    }
    return [
        RepLoad(
            user_id=profile.user_id,
            name=profile.user.get_full_name() or profile.user.get_username(),
            team=profile.team.name,
            open_mqls=counts.get(profile.user_id, {}).get("mqls", 0),
            open_sqls=counts.get(profile.user_id, {}).get("sqls", 0),
            capacity=profile.capacity,
            away=profile.is_away(now),
            overdue=counts.get(profile.user_id, {}).get("overdue", 0),
        )
        for profile in profiles
    ]


def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


NOTIFICATIONS_LIMIT = 100


def notifications_for(user, *, limit: int = NOTIFICATIONS_LIMIT) -> list[Notification]:
    """The user's newest notifications, with lead, assignment, its owner and who made it joined
    (one query)."""
    return list(
        Notification.objects.filter(recipient=user)
        .select_related("lead", "assignment", "assignment__owner", "assignment__by_user")
        .order_by("-created_at", "-id")[:limit]
    )


def teams_with_members() -> list[Team]:
    """Every team with its managers and members (three queries)."""
    return list(
        Team.objects.prefetch_related(
            "managers",
            Prefetch(
                "members",
                queryset=RepProfile.objects.select_related("user").order_by(
                    "user__first_name", "user__last_name", "pk"
                ),
            ),
        ).order_by("name")
    )


def assignment_rules() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("team").order_by("position", "id")


def rep_profiles() -> QuerySet[RepProfile]:
    """Every active sales rep and manager with the profile assignment keeps (created on first
    change), by name."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .distinct()
        .select_related("rep_profile", "rep_profile__team")
        .order_by("first_name", "last_name", "username")
    )


def lead_assignments(*, lead: Lead, limit: int = 20) -> list[Assignment]:
    return list(
        lead.assignments.select_related("owner", "by_user", "team").order_by("-at", "-id")[:limit]
    )

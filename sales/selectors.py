"""Reads for sales work; every one respects who is asking (leads.selectors.lead_visible_to)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import Activity, Campaign, Lead, Opportunity, PipelineStage
from leads.selectors import lead_visible_to
from sales.models import Qualification, QualificationPolicy, Rejection, RejectionReason

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

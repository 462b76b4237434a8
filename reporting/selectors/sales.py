"""Sales reports: MQL acceptance and rejection reasons per campaign, SLA compliance and rep
performance."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.lifecycle import Stage
from leads.models import (
    Campaign,
    Opportunity,
    StageTransition,
)
from reporting.selectors.money import _rate_expression, _refuse_unconvertible, _unconvertible
from reporting.selectors.report import MONEY, NO_CAMPAIGN, ZERO, ReportFilter, _ratio
from sales.models import Assignment, Rejection, RejectionReason

# --- sales reports -----------------------------------------------------------------------------


@dataclass
class AcceptanceRow:
    campaign_id: int | None
    label: str = ""
    accepted: int = 0
    rejected: int = 0
    reasons: dict[int, int] = field(default_factory=dict)

    @property
    def acceptance(self) -> Decimal | None:
        return _ratio(self.accepted, self.accepted + self.rejected)


@dataclass(frozen=True)
class AcceptanceTable:
    reasons: list  # RejectionReason rows that occur, in their order
    rows: list[AcceptanceRow]


def mql_acceptance(report: ReportFilter) -> AcceptanceTable:
    """MQLs sales decided on in the period, per attributed campaign: accepted (moved MQL → SQL)
    and rejected (a Rejection, with its reason). Four queries."""
    campaign = report.campaign_field
    transitions = _decided(
        StageTransition.objects.filter(
            from_stage=Stage.MQL, to_stage=Stage.SQL, at__gte=report.start, at__lt=report.end
        ),
        report,
    )
    rejections = _decided(Rejection.objects.filter(at__gte=report.start, at__lt=report.end), report)
    rows: dict[int | None, AcceptanceRow] = {}
    for item in transitions.values(f"lead__{campaign}").annotate(n=Count("id")).order_by():
        key = item[f"lead__{campaign}"]
        rows.setdefault(key, AcceptanceRow(campaign_id=key)).accepted = item["n"]
    reason_ids = set()
    for item in rejections.values(f"lead__{campaign}", "reason").annotate(n=Count("id")).order_by():
        row = rows.setdefault(
            item[f"lead__{campaign}"], AcceptanceRow(campaign_id=item[f"lead__{campaign}"])
        )
        row.rejected += item["n"]
        row.reasons[item["reason"]] = item["n"]
        reason_ids.add(item["reason"])
    names = Campaign.objects.in_bulk([key for key in rows if key is not None])
    for key, row in rows.items():
        row.label = names[key].name if key in names else _("No campaign")
    reasons = list(RejectionReason.objects.filter(pk__in=reason_ids).order_by("position", "name"))
    ordered = sorted(rows.values(), key=lambda row: (-(row.accepted + row.rejected), row.label))
    return AcceptanceTable(reasons=reasons, rows=ordered)


def _decided(rows: QuerySet, report: ReportFilter) -> QuerySet:
    campaign = report.campaign_field
    if report.channel:
        rows = rows.filter(
            Q(**{f"lead__{campaign}__channel": report.channel})
            | Q(**{f"lead__{campaign}__isnull": True, "lead__source_channel": report.channel})
        )
    if report.direction == NO_CAMPAIGN:
        rows = rows.filter(**{f"lead__{campaign}__isnull": True})
    elif report.direction:
        rows = rows.filter(**{f"lead__{campaign}__direction": report.direction})
    if report.campaign_id:
        rows = rows.filter(**{f"lead__{campaign}_id": report.campaign_id})
    if report.owner_id:
        rows = rows.filter(lead__owner_id=report.owner_id)
    return rows


@dataclass
class RepRow:
    owner_id: int | None
    label: str = ""
    accepted: int = 0
    created: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = ZERO
    won_margin: Decimal = ZERO
    # MQL hand-overs whose SLA deadline fell in the period and has passed or been answered,
    # and of those the ones answered (accepted, rejected or reassigned) by the deadline.
    sla_due: int = 0
    sla_met: int = 0

    @property
    def win_rate(self) -> Decimal | None:
        return _ratio(self.won, self.won + self.lost)

    @property
    def sla_compliance(self) -> Decimal | None:
        return _ratio(self.sla_met, self.sla_due)


def rep_performance(report: ReportFilter) -> list[RepRow]:
    """Per opportunity owner in the period: MQLs they accepted, opportunities opened, won and
    lost (closed in the period), the amount and gross margin won (report currency) and the win
    rate, and SLA compliance: of the MQL hand-overs whose deadline fell in the period (and has
    passed), the share answered by the deadline. Filters by the lead's attribution like the
    other reports. Five queries."""
    won_or_lost = _decided(
        Opportunity.objects.filter(
            status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
            closed_at__gte=report.start,
            closed_at__lt=report.end,
        ),
        report,
    )
    _refuse_unconvertible(_unconvertible(won_or_lost))
    rows: dict[int | None, RepRow] = {}
    closed = (
        won_or_lost.values("owner")
        .annotate(
            won=Count("id", filter=Q(status=Opportunity.Status.WON)),
            lost=Count("id", filter=Q(status=Opportunity.Status.LOST)),
            amount=Sum(
                F("amount") * _rate_expression(),
                filter=Q(status=Opportunity.Status.WON),
                output_field=MONEY,
            ),
            margin=Sum(
                F("gross_margin") * _rate_expression(),
                filter=Q(status=Opportunity.Status.WON),
                output_field=MONEY,
            ),
        )
        .order_by()
    )
    for item in closed:
        row = rows.setdefault(item["owner"], RepRow(owner_id=item["owner"]))
        row.won, row.lost = item["won"], item["lost"]
        row.won_amount = Decimal(item["amount"] or 0).quantize(Decimal("0.01"))
        row.won_margin = Decimal(item["margin"] or 0).quantize(Decimal("0.01"))
    opened = _decided(
        Opportunity.objects.filter(created_at__gte=report.start, created_at__lt=report.end),
        report,
    )
    for item in opened.values("owner").annotate(n=Count("id")).order_by():
        rows.setdefault(item["owner"], RepRow(owner_id=item["owner"])).created = item["n"]
    accepted = _decided(
        StageTransition.objects.filter(
            from_stage=Stage.MQL, to_stage=Stage.SQL, at__gte=report.start, at__lt=report.end
        ),
        report,
    )
    for item in accepted.values("by_user").annotate(n=Count("id")).order_by():
        if item["by_user"] is not None and (
            report.owner_id is None or item["by_user"] == report.owner_id
        ):
            rows.setdefault(item["by_user"], RepRow(owner_id=item["by_user"])).accepted = item["n"]
    now = timezone.now()
    deadlines = _decided(
        Assignment.objects.filter(
            sla_due_at__gte=report.start, sla_due_at__lt=min(report.end, now)
        ),
        report,
    )
    if report.owner_id:
        deadlines = deadlines.filter(owner_id=report.owner_id)
    for item in (
        deadlines.values("owner")
        .annotate(
            due=Count("id"),
            met=Count("id", filter=Q(sla_closed_at__lte=F("sla_due_at"))),
        )
        .order_by()
    ):
        row = rows.setdefault(item["owner"], RepRow(owner_id=item["owner"]))
        row.sla_due, row.sla_met = item["due"], item["met"]
    users = get_user_model().objects.in_bulk([key for key in rows if key is not None])
    for key, row in rows.items():
        user = users.get(key)
        row.label = (user.get_full_name() or user.get_username()) if user else _("No owner")
    return sorted(rows.values(), key=lambda row: (-row.won_margin, -row.won, row.label))

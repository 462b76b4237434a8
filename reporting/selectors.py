"""Reads for the reports: every KPI computed by a few SQL aggregates, never a loop over leads.

A report looks at a **cohort**: the leads created in the chosen period (local days in
Europe/Berlin), attributed to a campaign by first touch (``Lead.first_campaign``, the default) or
last touch (``Lead.last_campaign``), and what became of them so far: how many reached MQL, SQL,
opportunity and customer (a lead that skipped a stage, such as one imported as SQL, counts as
having reached the ones before), how long they stayed in each stage (median), and the gross
margin of the opportunities they won. Costs are the campaign costs incurred in the same period;
visitors the website visitors first seen in it. docs/reports.md has the definitions and a
worked example.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadcrm.roles import Role, has_role
from leads.lifecycle import FUNNEL, Stage
from leads.models import (
    Campaign,
    CampaignCost,
    Channel,
    Lead,
    Opportunity,
    StageTransition,
    Visitor,
)
from reporting.aggregates import median_sql, seconds_between_sql, whole_days_sql
from reporting.models import (
    REPORT_CURRENCY,
    Attribution,
    ExchangeRate,
    FunnelDay,
    FunnelMonth,
    MarginDay,
    MarginMonth,
    RollupState,
    StayDay,
    StayMonth,
    StayMonthTotal,
)
from sales.models import Assignment, Rejection, RejectionReason

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=20, decimal_places=2)


class Granularity(models.TextChoices):
    DAY = "day", gettext_lazy("Day")
    WEEK = "week", gettext_lazy("Week")
    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")


class GroupBy:
    CAMPAIGN = "campaign"
    CHANNEL = "channel"
    DIRECTION = "direction"
    PERIOD = "period"


# The funnel's stages after "lead" (unqualified), as the report names them.
STAGE_KEYS = ["mqls", "sqls", "opportunities", "customers"]
NO_CAMPAIGN = "none"


@dataclass(frozen=True)
class ReportFilter:
    """What a report looks at. Days are local days (Europe/Berlin), both inclusive."""

    since: date
    until: date
    attribution: str = Attribution.FIRST
    granularity: str = Granularity.MONTH
    channel: str | None = None
    direction: str | None = None
    campaign_id: int | None = None
    owner_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the period: midnight after ``until``, local time."""
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=self.zone)

    def previous(self) -> "ReportFilter":
        """The period of the same length just before this one (for "change vs previous")."""
        days = (self.until - self.since).days + 1
        return replace(
            self,
            since=self.since - timedelta(days=days),
            until=self.since - timedelta(days=1),
        )

    @property
    def campaign_field(self) -> str:
        return "last_campaign" if self.attribution == Attribution.LAST else "first_campaign"


# Reports cover days in this range (a period before it would be nonsense; and the day after
# ``until`` and the period before ``since`` must still be dates).
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
MAX_DAYS = 3 * 366


def period_errors(since: date, until: date) -> dict[str, str]:
    """What is wrong with a report period, by field (empty when it is fine)."""
    if since < EARLIEST:
        return {"since": _("Choose a day from 1970 on.")}
    if until > LATEST:
        return {"until": _("Choose a day before 3000.")}
    if since > until:
        return {"until": _("The last day is before the first.")}
    if (until - since).days >= MAX_DAYS:
        return {"since": _("A report covers at most three years.")}
    return {}


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: the first day of the month eleven months ago until today."""
    today = today or timezone.localdate()
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def report_scope(*, user, wanted: ReportFilter) -> ReportFilter:
    """The filter ``user`` may have: a sales rep sees the figures of their own leads only (the
    owner filter is set to them whatever was asked); others see everything they ask for."""
    if sees_everyones_figures(user):
        return wanted
    if has_role(user, Role.SALES_REP):
        return replace(wanted, owner_id=user.pk)
    raise ValidationError(_("Your role may not see reports."))


def sees_everyones_figures(user) -> bool:
    return has_role(user, Role.MARKETER, Role.SALES_MANAGER, Role.ADMIN)


def may_see_reports(user) -> bool:
    return has_role(user, Role.MARKETER, Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN)


def _ratio(part, whole) -> Decimal | None:
    """part / whole, or None (shown as a dash) when whole is zero or unknown."""
    if part is None or not whole:
        return None
    return Decimal(part) / Decimal(whole)


@dataclass
class KpiRow:
    """The figures of one group (a campaign, channel, direction or period) or of all."""

    key: str | int | date | None = None
    label: str = ""
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    opportunities: int = 0
    customers: int = 0
    # Median seconds in a stage before the next funnel stage, for leads that moved on.
    median_seconds: dict[str, float | None] = field(default_factory=dict)
    gross_margin: Decimal = ZERO
    # None: not shown (an owner filter: costs belong to campaigns, not to reps).
    cost: Decimal | None = ZERO
    visitors: int | None = None
    identified_visitors: int | None = None
    budget: Decimal | None = None

    @property
    def funnel(self) -> list[tuple[str, int]]:
        return [
            (Stage.UNQUALIFIED.value, self.leads),
            (Stage.MQL.value, self.mqls),
            (Stage.SQL.value, self.sqls),
            (Stage.OPPORTUNITY.value, self.opportunities),
            (Stage.CUSTOMER.value, self.customers),
        ]

    @cached_property
    def conversions(self) -> dict[str, Decimal | None]:
        """Stage-to-stage conversion: "unqualified_mql" = MQLs / leads, and so on."""
        steps = self.funnel
        return {
            f"{steps[i][0]}_{steps[i + 1][0]}": _ratio(steps[i + 1][1], steps[i][1])
            for i in range(len(steps) - 1)
        }

    @property
    def lead_to_customer(self) -> Decimal | None:
        return _ratio(self.customers, self.leads)

    @property
    def visitor_to_lead(self) -> Decimal | None:
        return _ratio(self.identified_visitors, self.visitors)

    @property
    def cpl(self) -> Decimal | None:
        return _ratio(self.cost, self.leads)

    @property
    def cpa(self) -> Decimal | None:
        return _ratio(self.cost, self.customers)

    @property
    def roi(self) -> Decimal | None:
        if self.cost is None:
            return None
        return _ratio(self.gross_margin - self.cost, self.cost)


# --- money: one currency or an explicit rate -------------------------------------------------


RATE = DecimalField(max_digits=14, decimal_places=6)


def _rate_on(currency, day):
    """The rate of ``currency`` (an OuterRef) valid on ``day`` (an expression or a date): the
    latest from that day or before, else the currency's earliest; NULL without any rate."""
    rates = ExchangeRate.objects.filter(currency=currency)
    return Coalesce(
        Subquery(rates.filter(valid_from__lte=day).order_by("-valid_from").values("rate")[:1]),
        Subquery(rates.order_by("valid_from").values("rate")[:1]),
        output_field=RATE,
    )


def _rate_expression(currency_field: str = "currency", on=None):
    """Factor turning an amount in the row's currency into the report currency, at the rate
    valid on ``on`` (an expression of the row's date; None: today)."""
    day = on if on is not None else Value(timezone.localdate())
    return Case(
        When(**{currency_field: REPORT_CURRENCY}, then=Value(Decimal(1))),
        default=_rate_on(OuterRef(currency_field), day),
        output_field=RATE,
    )


def _refuse_unconvertible(currencies: set[str]) -> None:
    if currencies:
        raise ValidationError(
            {
                "currency": _(
                    "Amounts in %(currencies)s cannot be added to %(base)s without an exchange "
                    "rate. Enter the rate under Campaigns → Exchange rates."
                )
                % {"currencies": ", ".join(sorted(currencies)), "base": REPORT_CURRENCY}
            }
        )


def _unconvertible(rows: QuerySet) -> set[str]:
    return set(
        rows.exclude(currency=REPORT_CURRENCY)
        .exclude(currency__in=ExchangeRate.objects.values("currency"))
        .values_list("currency", flat=True)
        .distinct()
        .order_by()
    )


# --- the cohort -----------------------------------------------------------------------------


def _attributed(leads: QuerySet, report: ReportFilter) -> QuerySet:
    """Leads with their attributed campaign, channel and direction as annotations."""
    campaign = report.campaign_field
    return leads.annotate(
        r_campaign=F(f"{campaign}_id"),
        r_channel=Coalesce(F(f"{campaign}__channel"), F("source_channel")),
        r_direction=Coalesce(
            F(f"{campaign}__direction"), Value(NO_CAMPAIGN), output_field=CharField()
        ),
    )


def cohort(report: ReportFilter) -> QuerySet[Lead]:
    """The leads the report counts: created in the period, attributed, filtered."""
    leads = _attributed(
        Lead.objects.filter(created_at__gte=report.start, created_at__lt=report.end), report
    )
    if report.channel:
        leads = leads.filter(r_channel=report.channel)
    if report.direction:
        leads = leads.filter(r_direction=report.direction)
    if report.campaign_id:
        leads = leads.filter(r_campaign=report.campaign_id)
    if report.owner_id:
        leads = leads.filter(owner_id=report.owner_id)
    return leads


def _period_key(expression: str, report: ReportFilter, *, local: bool):
    kind = report.granularity
    if local:
        return Trunc(expression, kind, output_field=DateField(), tzinfo=report.zone)
    return Trunc(expression, kind, output_field=DateField())


def _group_expression(group_by: str | None, report: ReportFilter):
    if group_by is None:
        return Value("all", output_field=CharField())
    if group_by == GroupBy.PERIOD:
        return _period_key("created_at", report, local=True)
    return F(f"r_{group_by}")


def _as_date(value) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


STAGE_ORDER_SQL = " ".join(f"WHEN '{stage}' THEN {index}" for index, stage in enumerate(FUNNEL))
# The stages whose time is measured: each until the next funnel stage.
STAY_STAGES = [stage.value for stage in FUNNEL[:4]]
DAY_SECONDS = 86400


def lead_facts_sql(leads: QuerySet, columns: list[str]) -> tuple[str, tuple]:
    """SQL giving one row per lead of ``leads``: ``id``, the queryset's ``columns``,
    ``reached`` (the index in FUNNEL of the furthest stage the lead reached: its transitions
    and its current stage, so a lead imported as SQL has reached MQL too) and ``days_0`` to
    ``days_3``: the whole days (24-hour spans, rounded down) from entering unqualified (its
    creation), MQL, SQL and opportunity until first entering the next funnel stage, NULL when
    it did not. Shared by the live reports (an owner filter) and the rollup refresh."""
    inner_sql, inner_params = (
        leads.values("id", "stage", "created_at", *columns).order_by().query.sql_with_params()
    )
    vendor = connection.vendor
    firsts = ",\n".join(
        f"MIN(CASE WHEN t.to_stage = '{stage}' THEN t.at END) AS at_{index}"
        for index, stage in enumerate(FUNNEL)
        if index > 0
    )
    current = f"CASE c.stage {STAGE_ORDER_SQL} ELSE 0 END"
    reached = (
        f"CASE WHEN m.furthest IS NULL OR {current} > m.furthest THEN {current} ELSE m.furthest END"
    )
    stays = ",\n".join(
        f"{whole_days_sql(vendor, seconds_between_sql(vendor, earlier, later))} AS days_{index}"
        for index, (earlier, later) in enumerate(
            [
                ("c.created_at", "m.at_1"),
                ("m.at_1", "m.at_2"),
                ("m.at_2", "m.at_3"),
                ("m.at_3", "m.at_4"),
            ]
        )
    )
    passthrough = "".join(f"c.{column}, " for column in columns)
    sql = f"""
        WITH cohort AS ({inner_sql}),
        m AS (
            SELECT t.lead_id,
                   MAX(CASE t.to_stage {STAGE_ORDER_SQL} ELSE 0 END) AS furthest,
                   {firsts}
            FROM {StageTransition._meta.db_table} t
            WHERE t.lead_id IN (SELECT id FROM cohort)
            GROUP BY t.lead_id
        )
        SELECT c.id, {passthrough}{reached} AS reached,
               {stays}
        FROM cohort c
        LEFT JOIN m ON m.lead_id = c.id
    """
    return sql, tuple(inner_params)


def _funnel_rows(report: ReportFilter, group_by: str | None, *, medians: bool = True) -> dict:
    """Per group the cohort's size, the leads that reached each stage, the median whole days
    in each stage and the gross margin won (report currency): from the rollup, or live over
    the leads for an owner filter (the rollup has no owners). ``medians=False``: leave the
    medians out (None) where a page does not show them, one query less."""
    if report.owner_id is None:
        return _rollup_funnel_rows(report, group_by, medians=medians)
    _check_margin_currencies(report)
    return _live_funnel_rows(report, group_by)


def _live_funnel_rows(report: ReportFilter, group_by: str | None) -> dict:
    """One query over the cohort's leads, their stage transitions and won opportunities."""
    leads = cohort(report).annotate(r_group=_group_expression(group_by, report))
    facts, facts_params = lead_facts_sql(leads, ["r_group"])
    vendor = connection.vendor
    counts = ",\n".join(
        f"SUM(CASE WHEN f.reached >= {index} THEN 1 ELSE 0 END)" for index in range(1, 5)
    )
    medians = ",\n".join(
        median_sql(vendor, f"f.days_{index} * {DAY_SECONDS}") for index in range(4)
    )
    opportunity = Opportunity._meta.db_table
    rates = ExchangeRate._meta.db_table
    sql = f"""
        WITH f AS ({facts}),
        g AS (
            SELECT o.lead_id,
                   SUM(o.gross_margin * CASE WHEN o.currency = %s THEN 1 ELSE COALESCE(
                       (SELECT r.rate FROM {rates} r WHERE r.currency = o.currency
                        AND r.valid_from <= %s ORDER BY r.valid_from DESC LIMIT 1),
                       (SELECT r.rate FROM {rates} r WHERE r.currency = o.currency
                        ORDER BY r.valid_from LIMIT 1)) END)
                       AS margin
            FROM {opportunity} o
            WHERE o.status = %s AND o.gross_margin IS NOT NULL
              AND o.lead_id IN (SELECT id FROM f)
            GROUP BY o.lead_id
        )
        SELECT f.r_group, COUNT(*),
               {counts},
               {medians},
               SUM(g.margin)
        FROM f
        LEFT JOIN g ON g.lead_id = f.id
        GROUP BY f.r_group
    """
    params = (*facts_params, REPORT_CURRENCY, timezone.localdate(), Opportunity.Status.WON)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    rows = {}
    for key, leads_count, *rest in result:
        if group_by == GroupBy.PERIOD:
            key = _as_date(key)
        rows[key] = {
            "leads": leads_count,
            **dict(zip(STAGE_KEYS, (int(n or 0) for n in rest[:4]), strict=True)),
            "median_seconds": dict(
                zip(
                    STAY_STAGES,
                    (None if s is None else float(s) for s in rest[4:8]),
                    strict=True,
                )
            ),
            "gross_margin": Decimal(rest[8] or 0).quantize(Decimal("0.01")),
        }
    return rows


# --- the rollup (reporting.rollup.rollup_refresh keeps it at most a minute old) ---------------


def _rollup(
    model: type[models.Model], report: ReportFilter, group_by: str | None, *, days: Q | None = None
) -> QuerySet:
    """The rollup rows of ``model`` the report covers, with its group as ``r_group``. A row's
    channel is its campaign's (read now, so editing a campaign shows at once) or, without a
    campaign, the lead's source channel; the direction "none" without a campaign."""
    if days is None:
        days = Q(day__gte=report.since, day__lte=report.until)
    rows = model.objects.filter(days, attribution=report.attribution).annotate(
        r_channel=Coalesce(F("campaign__channel"), F("channel"), output_field=CharField()),
        r_direction=Coalesce(
            F("campaign__direction"), Value(NO_CAMPAIGN), output_field=CharField()
        ),
    )
    if report.channel:
        rows = rows.filter(r_channel=report.channel)
    if report.direction:
        rows = rows.filter(r_direction=report.direction)
    if report.campaign_id:
        rows = rows.filter(campaign_id=report.campaign_id)
    group = {
        None: Value("all", output_field=CharField()),
        GroupBy.CAMPAIGN: F("campaign_id"),
        GroupBy.CHANNEL: F("r_channel"),
        GroupBy.DIRECTION: F("r_direction"),
        GroupBy.PERIOD: _period_key("day", report, local=False),
    }[group_by]
    return rows.annotate(r_group=group)


def _rollup_parts(
    daily: type[models.Model], monthly: type[models.Model], report: ReportFilter, group_by
) -> list[QuerySet]:
    """The rows of a report from a daily rollup table and its monthly sums: the months wholly
    inside the period from ``monthly``, the other days from ``daily`` (all from ``daily`` when
    the trend is by day or week: those buckets cut months)."""
    first, end = _whole_months(report)
    by_days = group_by == GroupBy.PERIOD and report.granularity in (
        Granularity.DAY,
        Granularity.WEEK,
    )
    if first >= end or by_days:
        return [_rollup(daily, report, group_by)]
    return [
        _rollup(monthly, report, group_by, days=Q(day__gte=first, day__lt=end)),
        _rollup(
            daily,
            report,
            group_by,
            days=Q(day__gte=report.since, day__lt=first) | Q(day__gte=end, day__lte=report.until),
        ),
    ]


def _union(parts: list[QuerySet]) -> QuerySet:
    return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]


def _rollup_funnel_rows(report: ReportFilter, group_by: str | None, *, medians: bool) -> dict:
    """Three queries over the rollup: margins (refusing a currency without a rate), counts,
    and the medians from the histograms of whole days in stage."""
    period = group_by == GroupBy.PERIOD
    margins: dict = {}
    missing = set()
    rate = _rate_on(OuterRef("currency"), timezone.localdate())
    for item in _union(
        [
            part.values("r_group", "currency")
            .annotate(total=Sum("gross_margin"), rate=rate)
            .order_by()
            for part in _rollup_parts(MarginDay, MarginMonth, report, group_by)
        ]
    ):
        if item["total"] is None:
            continue
        if item["currency"] == REPORT_CURRENCY:
            factor = Decimal(1)
        elif item["rate"] is None:
            missing.add(item["currency"])
            continue
        else:
            factor = item["rate"]
        key = _as_date(item["r_group"]) if period else item["r_group"]
        margins[key] = margins.get(key, ZERO) + item["total"] * factor
    _refuse_unconvertible(missing)
    rows: dict = {}
    for item in _union(
        [
            part.values("r_group")
            .annotate(**{f"n_{name}": Sum(name) for name in ["leads", *STAGE_KEYS]})
            .order_by()
            for part in _rollup_parts(FunnelDay, FunnelMonth, report, group_by)
        ]
    ):
        if item["n_leads"] is None:  # no rows at all (one group: the sums of nothing)
            continue
        key = _as_date(item["r_group"]) if period else item["r_group"]
        row = rows.setdefault(
            key,
            {
                "leads": 0,
                **dict.fromkeys(STAGE_KEYS, 0),
                "median_seconds": dict.fromkeys(STAY_STAGES),
                "gross_margin": margins.get(key, ZERO).quantize(Decimal("0.01")),
            },
        )
        for name in ["leads", *STAGE_KEYS]:
            row[name] += int(item[f"n_{name}"])
    for key, stage, days in _rollup_medians(report, group_by) if medians else []:
        if key in rows:
            rows[key]["median_seconds"][STAY_STAGES[stage]] = days * DAY_SECONDS
    return rows


def _whole_months(report: ReportFilter) -> tuple[date, date]:
    """The whole months inside the period: [first, end), empty when first >= end."""
    first = report.since if report.since.day == 1 else _next_month(report.since)
    after = report.until + timedelta(days=1)
    end = after if after.day == 1 else after.replace(day=1)
    return first, end


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _rollup_medians(report: ReportFilter, group_by: str | None) -> list[tuple]:
    """(group, stage index, median days) from the histograms (the months wholly inside the
    period from StayMonth, the other days from StayDay): the median as percentile_cont takes
    it, the mean of the two middle values (the one middle value for an odd count)."""
    first, end = _whole_months(report)
    everyone = not (report.channel or report.direction or report.campaign_id)
    if first < end and everyone and group_by in (None, GroupBy.PERIOD):
        # No filter and no campaign groups: all leads, the same for either attribution.
        parts = _rollup_parts(
            StayDay, StayMonth, replace(report, attribution=Attribution.FIRST), group_by
        )
        if len(parts) == 2:  # the whole months from StayMonthTotal instead
            parts[0] = StayMonthTotal.objects.filter(day__gte=first, day__lt=end).annotate(
                r_group=Value("all", output_field=CharField())
                if group_by is None
                else _period_key("day", report, local=False)
            )
    else:
        parts = _rollup_parts(StayDay, StayMonth, report, group_by)
    histogram = [
        part.values("r_group", "stage", "days").annotate(n=Sum("leads")).order_by()
        for part in parts
    ]
    union = histogram[0].union(*histogram[1:], all=True) if len(histogram) > 1 else histogram[0]
    union_sql, params = union.query.sql_with_params()
    histogram_sql = (
        f"SELECT u.r_group, u.stage, u.days, SUM(u.n) AS n FROM ({union_sql}) u "
        "GROUP BY u.r_group, u.stage, u.days"
    )
    sql = f"""
        WITH h AS ({histogram_sql}),
        c AS (
            SELECT r_group, stage, days, n,
                   CAST(SUM(n) OVER (PARTITION BY r_group, stage ORDER BY days) AS bigint)
                       AS upto,
                   CAST(SUM(n) OVER (PARTITION BY r_group, stage) AS bigint) AS total
            FROM h
        )
        SELECT r_group, stage,
               MIN(CASE WHEN upto - n <= (total - 1) / 2 AND (total - 1) / 2 < upto
                   THEN days END),
               MIN(CASE WHEN upto - n <= total / 2 AND total / 2 < upto THEN days END)
        FROM c
        GROUP BY r_group, stage
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    return [
        (
            _as_date(key) if group_by == GroupBy.PERIOD else key,
            stage,
            (low + high) / 2,
        )
        for key, stage, low, high in result
    ]


def rollup_as_of() -> datetime | None:
    """When the figures were taken (the start of the last rollup refresh), None before the
    first refresh."""
    state = RollupState.objects.order_by("-as_of").first()
    return state.as_of if state else None


def _cost_rows(report: ReportFilter, group_by: str | None) -> dict:
    costs = CampaignCost.objects.filter(
        incurred_on__gte=report.since, incurred_on__lte=report.until
    )
    if report.channel:
        costs = costs.filter(campaign__channel=report.channel)
    if report.direction:
        costs = costs.filter(campaign__direction=report.direction)
    if report.campaign_id:
        costs = costs.filter(campaign_id=report.campaign_id)
    _refuse_unconvertible(_unconvertible(costs))
    key = {
        None: Value("all", output_field=CharField()),
        GroupBy.CAMPAIGN: F("campaign_id"),
        GroupBy.CHANNEL: F("campaign__channel"),
        GroupBy.DIRECTION: F("campaign__direction"),
        GroupBy.PERIOD: _period_key("incurred_on", report, local=False),
    }[group_by]
    rows = (
        costs.annotate(r_group=key)
        .values("r_group")
        .annotate(
            total=Sum(
                F("amount") * _rate_expression(on=OuterRef("incurred_on")), output_field=MONEY
            )
        )
        .order_by()
    )
    return {row["r_group"]: Decimal(row["total"] or 0).quantize(Decimal("0.01")) for row in rows}


def _visitor_rows(report: ReportFilter, group_by: str | None) -> dict:
    """Visitors first seen in the period and how many identified themselves, per group of the
    attributed campaign: the first campaign under first touch, the last under last touch."""
    visitors = Visitor.objects.filter(first_seen__gte=report.start, first_seen__lt=report.end)
    campaign = report.campaign_field
    if report.channel:
        visitors = visitors.filter(**{f"{campaign}__channel": report.channel})
    if report.direction:
        visitors = visitors.filter(**{f"{campaign}__direction": report.direction})
    if report.campaign_id:
        visitors = visitors.filter(**{f"{campaign}_id": report.campaign_id})
    key = {
        None: Value("all", output_field=CharField()),
        GroupBy.CAMPAIGN: F(f"{campaign}_id"),
        GroupBy.CHANNEL: Coalesce(
            F(f"{campaign}__channel"), Value(Channel.DIRECT), output_field=CharField()
        ),
        GroupBy.DIRECTION: Coalesce(
            F(f"{campaign}__direction"), Value(NO_CAMPAIGN), output_field=CharField()
        ),
        GroupBy.PERIOD: _period_key("first_seen", report, local=True),
    }[group_by]
    rows = (
        visitors.annotate(r_group=key)
        .values("r_group")
        .annotate(visitors=Count("id"), identified=Count("lead"))
        .order_by()
    )
    return {row["r_group"]: (row["visitors"], row["identified"]) for row in rows}


def _check_margin_currencies(report: ReportFilter) -> None:
    won = Opportunity.objects.filter(
        status=Opportunity.Status.WON,
        gross_margin__isnull=False,
        lead__in=cohort(report).values("id"),
    )
    _refuse_unconvertible(_unconvertible(won))


def kpi_rows(report: ReportFilter, *, group_by: str | None, medians: bool = True) -> list[KpiRow]:
    """The KPIs per group (None: one row for everything), in a constant number of queries:
    the funnel (three over the rollup; two live for an owner filter), costs, visitors (and
    campaign names for campaigns).
    Raises ValidationError (field "currency") when an amount's currency has no rate."""
    funnel = _funnel_rows(report, group_by, medians=medians)
    with_costs = report.owner_id is None
    costs = _cost_rows(report, group_by) if with_costs else {}
    visitors = _visitor_rows(report, group_by) if with_costs else {}
    keys = set(funnel) | set(costs) | set(visitors)
    if group_by is None:
        keys = {"all"}
    rows = []
    for key in keys:
        figures = funnel.get(key, {})
        seen, identified = visitors.get(key, (0, 0))
        rows.append(
            KpiRow(
                key=key,
                leads=figures.get("leads", 0),
                mqls=figures.get("mqls", 0),
                sqls=figures.get("sqls", 0),
                opportunities=figures.get("opportunities", 0),
                customers=figures.get("customers", 0),
                median_seconds=figures.get(
                    "median_seconds", {stage.value: None for stage in FUNNEL[:4]}
                ),
                gross_margin=figures.get("gross_margin", ZERO),
                cost=costs.get(key, ZERO) if with_costs else None,
                visitors=seen if with_costs else None,
                identified_visitors=identified if with_costs else None,
            )
        )
    _label(rows, group_by)
    return rows


def _label(rows: list[KpiRow], group_by: str | None) -> None:
    if group_by == GroupBy.CAMPAIGN:
        campaigns = Campaign.objects.in_bulk([row.key for row in rows if row.key is not None])
        for row in rows:
            campaign = campaigns.get(row.key)
            row.label = campaign.name if campaign else _("No campaign")
            row.budget = campaign.budget if campaign else None
    elif group_by == GroupBy.CHANNEL:
        names = dict(Channel.choices)
        for row in rows:
            row.label = str(names.get(row.key, row.key))
    elif group_by == GroupBy.DIRECTION:
        names = {**dict(Campaign.Direction.choices), NO_CAMPAIGN: _("No campaign")}
        for row in rows:
            row.label = str(names.get(row.key, row.key))
    elif group_by == GroupBy.PERIOD:
        for row in rows:
            row.label = row.key.isoformat()
    else:
        for row in rows:
            row.label = _("All")


SORTS = ["roi", "cpl", "cpa", "leads", "customers", "cost", "gross_margin", "label"]


def kpi_table(
    report: ReportFilter,
    *,
    group_by: str,
    sort: str = "roi",
    descending: bool = True,
    medians: bool = True,
) -> list[KpiRow]:
    """KPI rows sorted by a column (ROI by default, best first; rows without it last)."""
    rows = kpi_rows(report, group_by=group_by, medians=medians)
    if group_by == GroupBy.PERIOD:
        return sorted(rows, key=lambda row: row.key)
    if sort == "label":
        return sorted(rows, key=lambda row: row.label.lower(), reverse=descending)
    # Ties in label order (a stable sort); rows without the value (a dash) last.
    rows.sort(key=lambda row: row.label.lower())
    with_value = [row for row in rows if getattr(row, sort) is not None]
    without = [row for row in rows if getattr(row, sort) is None]
    with_value.sort(key=lambda row: getattr(row, sort), reverse=descending)
    return with_value + without


def kpi_total(report: ReportFilter, *, medians: bool = True) -> KpiRow:
    return kpi_rows(report, group_by=None, medians=medians)[0]


@dataclass(frozen=True)
class Tile:
    name: str
    label: str
    value: Decimal | int | None
    previous: Decimal | int | None
    kind: str  # "count", "money", "percent" or "ratio"

    @property
    def change(self) -> Decimal | None:
        """Relative change vs the previous period (0.25: +25 %), None without a base."""
        if self.value is None or self.previous is None or not self.previous:
            return None
        return (Decimal(self.value) - Decimal(self.previous)) / abs(Decimal(self.previous))


@dataclass(frozen=True)
class Overview:
    report: ReportFilter
    current: KpiRow
    previous: KpiRow

    @property
    def tiles(self) -> list[Tile]:
        spec = [
            ("leads", _("Leads"), "count"),
            ("mqls", _("MQLs"), "count"),
            ("customers", _("New customers"), "count"),
            ("cost", _("Cost"), "money"),
            ("cpl", _("Cost per lead"), "money"),
            ("cpa", _("Cost per customer"), "money"),
            ("gross_margin", _("Gross margin"), "money"),
            ("roi", _("ROI"), "percent"),
        ]
        return [
            Tile(
                name=name,
                label=label,
                value=getattr(self.current, name),
                previous=getattr(self.previous, name),
                kind=kind,
            )
            for name, label, kind in spec
        ]


def overview(report: ReportFilter, *, previous_medians: bool = True) -> Overview:
    return Overview(
        report=report,
        current=kpi_total(report),
        previous=kpi_total(report.previous(), medians=previous_medians),
    )


def drilldown_leads(report: ReportFilter, *, limit: int = 100) -> QuerySet[Lead]:
    """The cohort's leads themselves (newest first), for the per-campaign drill-down."""
    return cohort(report).select_related("owner", "company").order_by("-created_at", "-id")[:limit]


def campaign_choices() -> QuerySet[Campaign]:
    return Campaign.objects.order_by("name").only("id", "name")


# --- campaigns: budget vs spend --------------------------------------------------------------


def _spent():
    """All costs of a campaign in the report currency (a Subquery per campaign row)."""
    costs = (
        CampaignCost.objects.filter(campaign=OuterRef("pk"))
        .values("campaign")
        .annotate(
            total=Sum(
                F("amount") * _rate_expression(on=OuterRef("incurred_on")), output_field=MONEY
            )
        )
        .values("total")
    )
    return Coalesce(Subquery(costs, output_field=MONEY), Value(ZERO), output_field=MONEY)


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns with what they cost so far (``spent``) and their budget (``budget_converted``,
    None without a budget or without a rate for its currency), both in the report currency,
    newest first: one query. Costs in a currency without a rate are refused."""
    _refuse_unconvertible(_unconvertible(CampaignCost.objects.all()))
    return Campaign.objects.annotate(
        spent=_spent(),
        budget_converted=ExpressionWrapper(
            F("budget")
            * _rate_expression(
                "budget_currency", on=Coalesce(OuterRef("starts_on"), Value(timezone.localdate()))
            ),
            output_field=MONEY,
        ),
        cost_rows=Count("costs"),
    ).order_by(F("starts_on").desc(nulls_last=True), "name")


@dataclass(frozen=True)
class Spend:
    budget: Decimal | None
    budget_currency: str
    spent: Decimal
    # The budget in the report currency: None without a budget or a rate for its currency.
    budget_converted: Decimal | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> "Spend":
        """From a campaign_list() row."""
        return cls(
            budget=campaign.budget,
            budget_currency=campaign.budget_currency,
            spent=campaign.spent,
            budget_converted=campaign.budget_converted,
        )

    @property
    def share(self) -> Decimal | None:
        """Spent / budget (1.1 = 10 % over), both in the report currency; None without a
        budget or without an exchange rate for its currency."""
        return _ratio(self.spent, self.budget_converted)

    @property
    def over(self) -> bool:
        return self.share is not None and self.share > 1


def campaign_spend(*, campaign_id: int) -> Spend:
    return Spend.of(campaign_list().get(pk=campaign_id))


def campaign_costs(*, campaign_id: int) -> QuerySet[CampaignCost]:
    return CampaignCost.objects.filter(campaign_id=campaign_id).order_by("-incurred_on", "-id")


def exchange_rates() -> QuerySet[ExchangeRate]:
    """Every rate, each currency's newest first: the history, with ``is_current`` on the rate
    valid today (one query)."""
    rates = ExchangeRate.objects.filter(currency=OuterRef("currency"))
    today = timezone.localdate()
    current_from = Coalesce(
        Subquery(
            rates.filter(valid_from__lte=today).order_by("-valid_from").values("valid_from")[:1]
        ),
        Subquery(rates.order_by("valid_from").values("valid_from")[:1]),
    )
    return (
        ExchangeRate.objects.select_related("updated_by")
        .annotate(
            is_current=ExpressionWrapper(Q(valid_from=current_from), output_field=BooleanField())
        )
        .order_by("currency", "-valid_from")
    )


def currencies_without_rate() -> list[str]:
    """Currencies of costs or won margins that reports cannot add up yet (two queries)."""
    won = Opportunity.objects.filter(status=Opportunity.Status.WON, gross_margin__isnull=False)
    return sorted(_unconvertible(CampaignCost.objects.all()) | _unconvertible(won))


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

"""The cohort and its funnel: live from the leads and their stage history (an owner filter), or from
the rollup tables (reporting.rollup keeps them at most a minute old)."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, models
from django.db.models import (
    CharField,
    DateField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from leads.lifecycle import FUNNEL
from leads.models import (
    Lead,
    Opportunity,
    StageTransition,
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
from reporting.selectors.money import _rate_on, _refuse_unconvertible, _unconvertible
from reporting.selectors.report import (
    NO_CAMPAIGN,
    STAGE_KEYS,
    ZERO,
    Granularity,
    GroupBy,
    ReportFilter,
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


def _check_margin_currencies(report: ReportFilter) -> None:
    won = Opportunity.objects.filter(
        status=Opportunity.Status.WON,
        gross_margin__isnull=False,
        lead__in=cohort(report).values("id"),
    )
    _refuse_unconvertible(_unconvertible(won))

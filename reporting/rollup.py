"""The refresh of the rollup the reports read (reporting.models FunnelDay … StayMonthTotal),
every minute by the beat task ``reporting.tasks.rollup_refresh``; docs/reports.md explains it."""

import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from leads.lifecycle import Stage
from leads.models import AuditEntry, Lead, Opportunity, StageTransition
from reporting.models import (
    Attribution,
    FunnelDay,
    FunnelMonth,
    MarginDay,
    MarginMonth,
    RollupState,
    StayDay,
    StayMonth,
    StayMonthTotal,
)
from reporting.selectors.funnel import lead_facts_sql

# The next refresh looks for changes from the start of the oldest transaction still open when
# this one started (it may stamp leads with its own, earlier clock and commit later), and this
# much earlier still (clocks of application servers and database differ a little). Refreshing
# a day twice gives the same rows.
ROLLUP_OVERLAP = timedelta(minutes=1)
# More changed days than this, and more than half of all: a full rebuild instead.
ROLLUP_MANY_DAYS = 60
# pg_advisory_xact_lock key of the refresh ("rollup" in ASCII).
ROLLUP_LOCK = 0x726F6C6C7570


@dataclass(frozen=True)
class RollupResult:
    as_of: datetime
    full: bool
    days: int
    seconds: float


def _lock(*, wait: bool) -> bool:
    """Serialise refreshes (PostgreSQL: a transaction-level advisory lock). SQLite, the
    single-process ``make run`` database, serialises writers itself."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUP_LOCK])
        return bool(cursor.fetchone()[0])


def _next_watermark(now: datetime) -> datetime:
    """Where the next refresh starts looking: before every transaction that could still
    commit a change stamped earlier than ``now``."""
    oldest = now
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            started = cursor.fetchone()[0]
        if started is not None:
            oldest = min(oldest, started)
    return oldest - ROLLUP_OVERLAP


def _local_day(field: str):
    return TruncDate(field, tzinfo=ZoneInfo(settings.TIME_ZONE))


def rollup_touched_days(*, since: datetime) -> list[date] | None:
    """The local creation days of the leads changed since ``since``: created, edited (a stage,
    campaign or channel: ``updated_at``), given a stage transition, or whose opportunity was won
    or lost. One query (a UNION, each part on its own index). None when a lead was deleted
    since then (its day is gone with it): the whole rollup must be rebuilt."""
    if AuditEntry.objects.filter(action=AuditEntry.Action.LEAD_DELETED, at__gte=since).exists():
        return None
    stages = [stage.value for stage in Stage]
    parts = [
        Lead.objects.filter(created_at__gte=since),
        Lead.objects.filter(updated_at__gte=since),
        Lead.objects.filter(
            pk__in=StageTransition.objects.filter(to_stage__in=stages, at__gte=since).values(
                "lead_id"
            )
        ),
        Lead.objects.filter(
            pk__in=Opportunity.objects.filter(
                status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
                closed_at__gte=since,
            ).values("lead_id")
        ),
    ]
    days = [
        part.annotate(r_day=_local_day("created_at")).values_list("r_day", flat=True).order_by()
        for part in parts
    ]
    return sorted(set(days[0].union(*days[1:])))


def _day_ranges(days: list[date]) -> Q:
    """Leads created on any of ``days`` (local), as few created_at ranges as possible."""
    zone = ZoneInfo(settings.TIME_ZONE)
    condition = Q(pk__in=[])
    start = previous = None
    for day in [*days, None]:
        if start is not None and (day is None or day != previous + timedelta(days=1)):
            condition |= Q(
                created_at__gte=datetime.combine(start, time.min, tzinfo=zone),
                created_at__lt=datetime.combine(
                    previous + timedelta(days=1), time.min, tzinfo=zone
                ),
            )
            start = None
        if day is not None and start is None:
            start = day
        previous = day
    return condition


def _rollup_write(*, days: list[date] | None) -> None:
    """Replace the rollup rows of ``days`` (None: all) by the figures of the leads created on
    them: the per-lead facts once into a temporary table, then three INSERT … SELECT."""
    leads = Lead.objects.all() if days is None else Lead.objects.filter(_day_ranges(days))
    facts, params = lead_facts_sql(
        leads.annotate(r_day=_local_day("created_at")),
        ["r_day", "first_campaign_id", "last_campaign_id", "source_channel"],
    )
    for model in (FunnelDay, StayDay, MarginDay):  # StayMonth: _months_write
        rows = model.objects.all() if days is None else model.objects.filter(day__in=days)
        rows._raw_delete(rows.db)
    keys = [
        (
            Attribution.FIRST,
            "f.first_campaign_id",
            "CASE WHEN f.first_campaign_id IS NULL THEN f.source_channel ELSE '' END",
        ),
        (
            Attribution.LAST,
            "f.last_campaign_id",
            "CASE WHEN f.last_campaign_id IS NULL THEN f.source_channel ELSE '' END",
        ),
    ]
    counts = ", ".join(
        f"SUM(CASE WHEN f.reached >= {index} THEN 1 ELSE 0 END)" for index in range(1, 5)
    )
    funnel = " UNION ALL ".join(
        f"SELECT f.r_day, '{attribution}', {campaign}, {channel}, COUNT(*), {counts} "
        f"FROM reporting_facts f GROUP BY f.r_day, {campaign}, {channel}"
        for attribution, campaign, channel in keys
    )
    stays = " UNION ALL ".join(
        f"SELECT f.r_day, '{attribution}', {campaign}, {channel}, {stage}, f.days_{stage}, "
        f"COUNT(*) FROM reporting_facts f WHERE f.days_{stage} IS NOT NULL "
        f"GROUP BY f.r_day, {campaign}, {channel}, f.days_{stage}"
        for attribution, campaign, channel in keys
        for stage in range(4)
    )
    margins = " UNION ALL ".join(
        f"SELECT f.r_day, '{attribution}', {campaign}, {channel}, o.currency, "
        f"SUM(o.gross_margin) FROM reporting_facts f "
        f"JOIN {Opportunity._meta.db_table} o ON o.lead_id = f.id "
        f"WHERE o.status = %s AND o.gross_margin IS NOT NULL "
        f"GROUP BY f.r_day, {campaign}, {channel}, o.currency"
        for attribution, campaign, channel in keys
    )
    key_columns = "day, attribution, campaign_id, channel"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS reporting_facts")
        cursor.execute(f"CREATE TEMPORARY TABLE reporting_facts AS {facts}", params)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE reporting_facts")
        cursor.execute(
            f"INSERT INTO {FunnelDay._meta.db_table} ({key_columns}, leads, mqls, sqls, "
            f"opportunities, customers) {funnel}"
        )
        cursor.execute(
            f"INSERT INTO {StayDay._meta.db_table} ({key_columns}, stage, days, leads) {stays}"
        )
        cursor.execute(
            f"INSERT INTO {MarginDay._meta.db_table} ({key_columns}, currency, gross_margin) "
            f"{margins}",
            [Opportunity.Status.WON] * len(keys),
        )
        cursor.execute("DROP TABLE reporting_facts")
    _months_write(days=days)


# Monthly sums of the daily rollup tables: (daily, monthly, key columns, summed columns).
ROLLUP_KEY = ["attribution", "campaign_id", "channel"]
MONTHLY = [
    (FunnelDay, FunnelMonth, ROLLUP_KEY, ["leads", "mqls", "sqls", "opportunities", "customers"]),
    (StayDay, StayMonth, [*ROLLUP_KEY, "stage", "days"], ["leads"]),
    (MarginDay, MarginMonth, [*ROLLUP_KEY, "currency"], ["gross_margin"]),
    # All leads: one attribution's rows (the other has the same leads).
    (StayDay, StayMonthTotal, ["stage", "days"], ["leads"]),
]


def _months_write(*, days: list[date] | None) -> None:
    """Sum the daily rows of the months of ``days`` (None: all) into the monthly tables, and
    the StayDay rows of one attribution (the other has the same leads) into StayMonthTotal."""
    condition = Q()
    firsts = None
    if days is not None:
        firsts = sorted({day.replace(day=1) for day in days})
        condition = Q(pk__in=[])
        for first in firsts:
            following = (first + timedelta(days=32)).replace(day=1)
            condition |= Q(day__gte=first, day__lt=following)
    with connection.cursor() as cursor:
        for daily, month, keys, sums in MONTHLY:
            old = month.objects.all() if firsts is None else month.objects.filter(day__in=firsts)
            old._raw_delete(old.db)
            rows = daily.objects.filter(condition)
            if month is StayMonthTotal:
                rows = rows.filter(attribution=Attribution.FIRST)
            sql, params = (
                rows.annotate(month=TruncMonth("day"))
                .values("month", *keys)
                .annotate(**{f"sum_{name}": Sum(name) for name in sums})
                .order_by()
                .query.sql_with_params()
            )
            columns = ", ".join(["day", *keys, *sums])
            values = ", ".join(
                ["s.month", *[f"s.{key}" for key in keys], *[f"s.sum_{name}" for name in sums]]
            )
            cursor.execute(
                f"INSERT INTO {month._meta.db_table} ({columns}) SELECT {values} FROM ({sql}) s",
                params,
            )


def rollup_refresh(*, full: bool = False, wait: bool = True) -> RollupResult | None:
    """Bring the report rollup up to date: rebuild the days of the leads changed since shortly
    before the last refresh (everything when ``full``, on the first refresh, or after a lead
    was deleted). In one transaction under an advisory lock: two refreshes at once run one
    after the other (``wait``) or the second returns None at once (``wait=False``, the beat
    task: the running one covers it). Idempotent: a second run rewrites the same rows."""
    started = time_module.perf_counter()
    with transaction.atomic():
        if not _lock(wait=wait):
            return None
        now = timezone.now()
        watermark = _next_watermark(now)
        state = RollupState.objects.select_for_update().order_by("-as_of").first()
        days = None
        if state is not None and not full:
            days = rollup_touched_days(since=state.watermark)
            # Most of many days changed (a bulk update): one pass over everything is quicker
            # than hundreds of day ranges.
            if len(days or []) > ROLLUP_MANY_DAYS and len(days) * 2 > (
                FunnelDay.objects.values("day").distinct().count()
            ):
                days = None
        if days is None or days:
            _rollup_write(days=days)
        seconds = time_module.perf_counter() - started
        if state is None:
            state = RollupState(as_of=now, watermark=watermark)
        state.as_of, state.watermark = now, watermark
        if days is None:
            state.rebuilt_at = now
        state.days = (
            FunnelDay.objects.values("day").distinct().count() if days is None else len(days)
        )
        state.seconds = seconds
        state.save()
    return RollupResult(as_of=now, full=days is None, days=state.days, seconds=seconds)

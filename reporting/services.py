"""Writes of the reporting app: campaigns, their costs (one-off, spread over a period, imported
from CSV), exchange rates, and the refresh of the rollup the reports read. Keyword-only, in a
transaction, errors naming the field."""

import csv
import io
import re
import time as time_module
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.lifecycle import Stage
from leads.models import AuditEntry, Campaign, CampaignCost, Lead, Opportunity, StageTransition
from reporting.models import (
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
from reporting.selectors import lead_facts_sql

CENT = Decimal("0.01")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# A CSV import takes at most this many cost rows at once.
IMPORT_MAX_ROWS = 5000


def parse_amount(text: str) -> Decimal:
    """An amount as people type it: 1234.56, 1,234.56, 1234,56 or 1.234,56 (German). The last
    separator followed by one or two digits is the decimal one."""
    value = text.strip().replace(" ", "").replace("\u00a0", "").replace("€", "")
    match = re.fullmatch(r"([0-9.,]*?)(?:([.,])([0-9]{1,2}))?", value)
    if not value or not match or (not match.group(1) and not match.group(3)):
        raise ValidationError(_("Enter an amount such as 1.234,56 or 1234.56."), code="invalid")
    whole = match.group(1).replace(".", "").replace(",", "")
    if match.group(1) and not re.fullmatch(r"[0-9]{1,3}([.,][0-9]{3})*|[0-9]+", match.group(1)):
        raise ValidationError(_("Enter an amount such as 1.234,56 or 1234.56."), code="invalid")
    try:
        amount = Decimal(f"{whole or 0}.{match.group(3) or 0}")
    except InvalidOperation as exc:
        raise ValidationError(_("Enter an amount such as 1.234,56 or 1234.56.")) from exc
    if amount >= Decimal("1e12"):
        raise ValidationError(_("The amount is too large."), code="max_value")
    return amount


def _check_campaign(*, name: str, starts_on: date | None, ends_on: date | None, budget) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the campaign a name.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    if budget is not None and budget < 0:
        errors["budget"] = _("A budget cannot be negative.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    name: str,
    channel: str,
    direction: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
    budget: Decimal | None = None,
    budget_currency: str = "EUR",
) -> Campaign:
    _check_campaign(name=name, starts_on=starts_on, ends_on=ends_on, budget=budget)
    if Campaign.objects.filter(name__iexact=name.strip()).exists():
        raise ValidationError({"name": _("A campaign with this name exists already.")})
    return Campaign.objects.create(
        name=name.strip(),
        channel=channel,
        direction=direction,
        starts_on=starts_on,
        ends_on=ends_on,
        budget=budget,
        budget_currency=budget_currency,
    )


@transaction.atomic
def campaign_update(
    *,
    campaign_id: int,
    name: str,
    channel: str,
    direction: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
    budget: Decimal | None = None,
    budget_currency: str = "EUR",
) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    _check_campaign(name=name, starts_on=starts_on, ends_on=ends_on, budget=budget)
    if Campaign.objects.filter(name__iexact=name.strip()).exclude(pk=campaign_id).exists():
        raise ValidationError({"name": _("A campaign with this name exists already.")})
    campaign.name = name.strip()
    campaign.channel = channel
    campaign.direction = direction
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.budget = budget
    campaign.budget_currency = budget_currency
    campaign.save(
        update_fields=[
            "name",
            "channel",
            "direction",
            "starts_on",
            "ends_on",
            "budget",
            "budget_currency",
        ]
    )
    return campaign


@dataclass(frozen=True)
class CostPart:
    incurred_on: date
    amount: Decimal


def spread_cost(*, amount: Decimal, since: date, until: date) -> list[CostPart]:
    """A cost for a period split into one part per calendar month, pro rata by days, each part
    dated the first day it covers in that month. Parts are rounded to cents and the last one
    takes the rounding remainder, so they add up to ``amount`` exactly."""
    total_days = (until - since).days + 1
    parts, day = [], since
    while day <= until:
        month_end = day.replace(day=monthrange(day.year, day.month)[1])
        last = min(month_end, until)
        share = (amount * ((last - day).days + 1) / total_days).quantize(CENT, ROUND_HALF_UP)
        parts.append(CostPart(incurred_on=day, amount=share))
        day = last + timedelta(days=1)
    rest = amount - sum(part.amount for part in parts[:-1])
    parts[-1] = CostPart(incurred_on=parts[-1].incurred_on, amount=rest)
    return parts


def _cost_errors(
    *, amount: Decimal, currency: str, incurred_on: date, until: date | None
) -> dict[str, str]:
    errors = {}
    if amount < 0:
        errors["amount"] = _("A cost cannot be negative.")
    if not CURRENCY.match(currency):
        errors["currency"] = _("Enter a three-letter currency code, e.g. EUR.")
    if until is not None and until < incurred_on:
        errors["until"] = _("The period cannot end before it starts.")
    if until is not None and (until - incurred_on).days > 3 * 366:
        errors["until"] = _("Spread a cost over at most three years.")
    return errors


def _cost_rows(
    *, campaign: Campaign, amount, currency, incurred_on, until, note
) -> list[CampaignCost]:
    if until is None or until == incurred_on:
        parts = [CostPart(incurred_on=incurred_on, amount=amount)]
    else:
        parts = spread_cost(amount=amount, since=incurred_on, until=until)
    return [
        CampaignCost(
            campaign=campaign,
            incurred_on=part.incurred_on,
            amount=part.amount,
            currency=currency,
            note=(
                note
                if len(parts) == 1
                else f"{note} ({index}/{len(parts)}: {incurred_on:%Y-%m-%d}–{until:%Y-%m-%d})"
            )[:255],
        )
        for index, part in enumerate(parts, start=1)
    ]


@transaction.atomic
def cost_add(
    *,
    campaign_id: int,
    amount: Decimal,
    currency: str,
    incurred_on: date,
    until: date | None = None,
    note: str = "",
) -> list[CampaignCost]:
    """A one-off cost (``until`` empty) or a cost for a period, stored as one row per calendar
    month pro rata (see spread_cost), so reports per period need no proration at read time."""
    campaign = Campaign.objects.get(pk=campaign_id)
    errors = _cost_errors(amount=amount, currency=currency, incurred_on=incurred_on, until=until)
    if errors:
        raise ValidationError(errors)
    return CampaignCost.objects.bulk_create(
        _cost_rows(
            campaign=campaign,
            amount=amount,
            currency=currency,
            incurred_on=incurred_on,
            until=until,
            note=note.strip(),
        )
    )


@transaction.atomic
def cost_delete(*, cost_id: int, campaign_id: int) -> None:
    CampaignCost.objects.filter(pk=cost_id, campaign_id=campaign_id).delete()


def _parse_date(text: str) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    raise ValidationError(_("Enter a date as 2026-03-31 or 31.03.2026."))


@dataclass(frozen=True)
class ImportResult:
    created: int
    errors: list[str]


COST_CSV_HEADER = ["campaign", "date", "amount", "currency", "until", "note"]


def costs_import_csv(*, text: str) -> ImportResult:
    """Costs from CSV (comma, semicolon or tab separated; header ``campaign,date,amount`` and
    optionally ``currency``, ``until``, ``note``; campaign by name or id; amounts and dates in
    English or German format). All or nothing: with any bad line nothing is stored and every
    bad line is named."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("campaign", "date", "amount") if name not in header]
    if missing:
        return ImportResult(
            created=0,
            errors=[
                _("The first line must name the columns; missing: %(names)s.")
                % {"names": ", ".join(missing)}
            ],
        )
    reader.fieldnames = header
    campaigns = {campaign.name.lower(): campaign for campaign in Campaign.objects.all()}
    by_id = {str(campaign.pk): campaign for campaign in campaigns.values()}
    rows, errors = [], []
    for line, record in enumerate(reader, start=2):
        if line - 1 > IMPORT_MAX_ROWS:
            errors.append(_("At most %(max)d lines at once.") % {"max": IMPORT_MAX_ROWS})
            break
        record = {key: (value or "").strip() for key, value in record.items() if key}
        if not any(record.values()):
            continue
        problems = []
        campaign = campaigns.get(record["campaign"].lower()) or by_id.get(record["campaign"])
        if campaign is None:
            problems.append(_("no campaign “%(name)s”") % {"name": record["campaign"]})
        try:
            incurred_on = _parse_date(record["date"])
        except ValidationError as exc:
            problems.append(exc.messages[0])
            incurred_on = None
        try:
            amount = parse_amount(record["amount"])
        except ValidationError as exc:
            problems.append(exc.messages[0])
            amount = None
        until = None
        if record.get("until"):
            try:
                until = _parse_date(record["until"])
            except ValidationError as exc:
                problems.append(exc.messages[0])
        currency = (record.get("currency") or "EUR").upper()
        if not problems and incurred_on and amount is not None:
            problems.extend(
                _cost_errors(
                    amount=amount, currency=currency, incurred_on=incurred_on, until=until
                ).values()
            )
        if problems:
            errors.append(
                _("Line %(line)d: %(problems)s") % {"line": line, "problems": "; ".join(problems)}
            )
            continue
        rows.extend(
            _cost_rows(
                campaign=campaign,
                amount=amount,
                currency=currency,
                incurred_on=incurred_on,
                until=until,
                note=record.get("note", ""),
            )
        )
    if errors:
        return ImportResult(created=0, errors=errors)
    with transaction.atomic():
        CampaignCost.objects.bulk_create(rows)
    return ImportResult(created=len(rows), errors=[])


@transaction.atomic
def exchange_rate_set(*, currency: str, rate: Decimal, by_user=None) -> ExchangeRate:
    currency = currency.strip().upper()
    if not CURRENCY.match(currency):
        raise ValidationError({"currency": _("Enter a three-letter currency code, e.g. USD.")})
    if rate <= 0:
        raise ValidationError({"rate": _("A rate must be above zero.")})
    row, _created = ExchangeRate.objects.update_or_create(
        currency=currency,
        defaults={"rate": rate, "updated_at": timezone.now(), "updated_by": by_user},
    )
    return row


# --- the rollup the reports read ----------------------------------------------------------------

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

"""Writes of the reporting app: campaigns, their costs (one-off, spread over a period, imported
from CSV) and exchange rates. Keyword-only, in a transaction, errors naming the field. The
refresh of the rollup the reports read is in ``reporting.rollup``."""

import csv
import io
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Campaign, CampaignCost
from reporting.models import (
    ExchangeRate,
)

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
def exchange_rate_set(
    *, currency: str, rate: Decimal, valid_from: date | None = None, by_user=None
) -> ExchangeRate:
    """The rate of ``currency`` from ``valid_from`` (default today) until its next rate; a rate
    of the same day is replaced. Earlier rates stay: costs of their days keep converting at them."""
    currency = currency.strip().upper()
    if not CURRENCY.match(currency):
        raise ValidationError({"currency": _("Enter a three-letter currency code, e.g. USD.")})
    if rate <= 0:
        raise ValidationError({"rate": _("A rate must be above zero.")})
    row, _created = ExchangeRate.objects.update_or_create(
        currency=currency,
        valid_from=valid_from or timezone.localdate(),
        defaults={"rate": rate, "updated_at": timezone.now(), "updated_by": by_user},
    )
    return row

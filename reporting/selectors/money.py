"""Money in the report currency: one currency, or converted at the explicit rate valid on the day;
never summed blindly."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    DecimalField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from reporting.models import (
    REPORT_CURRENCY,
    ExchangeRate,
)

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

"""Figures on report pages: localised numbers, and a dash where a figure cannot be computed."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from reporting.export import days, money, rate

register = template.Library()
DASH = "–"


@register.filter
def kpi_money(value) -> str:
    if value is None:
        return DASH
    return number_format(money(value), 2, use_l10n=True, force_grouping=True)


@register.filter
def kpi_count(value) -> str:
    if value is None:
        return DASH
    return number_format(value, 0, use_l10n=True, force_grouping=True)


@register.filter
def kpi_percent(value) -> str:
    """A rate (0.6667) as a percentage with one decimal (66.7 %)."""
    if value is None:
        return DASH
    return number_format(rate(value) * 100, 1, use_l10n=True, force_grouping=True) + " %"


@register.filter
def kpi_days(seconds) -> str:
    value = days(seconds)
    if value is None:
        return DASH
    return number_format(value, 1, use_l10n=True)


@register.filter
def raw(value) -> str:
    """The value for charts (data-value): plain digits with a point, empty for none."""
    if value is None:
        return ""
    return str(Decimal(value)) if not isinstance(value, int) else str(value)


@register.filter
def raw_rate(value) -> str:
    return "" if value is None else str(rate(value) * 100)


@register.filter
def raw_days(seconds) -> str:
    value = days(seconds)
    return "" if value is None else str(value)


@register.filter
def change_class(tile) -> str:
    """ "up"/"down" for a change vs the previous period (costs going up are not good news)."""
    change = tile.change
    if change is None or change == 0:
        return "flat"
    better = change > 0
    if tile.name in {"cost", "cpl", "cpa"}:
        better = not better
    return "better" if better else "worse"

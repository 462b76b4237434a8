"""Figures on report pages: localised numbers, and a dash where a figure cannot be computed."""

from decimal import Decimal
from functools import lru_cache

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language

from reporting.export import days, money, rate

register = template.Library()
DASH = "–"


@lru_cache(maxsize=16)
def _separators(language: str | None) -> tuple[str, object, str]:
    return (
        get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
        get_format("NUMBER_GROUPING", language, use_l10n=True),
        get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
    )


def number_format(value, decimal_pos: int, *, force_grouping: bool = False, **_ignored) -> str:
    """django.utils.formats.number_format with the language's separators looked up once (a
    report table formats a few thousand numbers)."""
    decimal, grouping, thousands = _separators(get_language())
    return numberformat.format(
        value, decimal, decimal_pos, grouping, thousands, force_grouping, use_l10n=True
    )


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

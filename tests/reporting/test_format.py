"""Report figures in the page's language (the filters look the separators up once)."""

from decimal import Decimal

import pytest
from django.utils import translation

from reporting.templatetags.reports import kpi_count, kpi_money, kpi_percent


@pytest.mark.parametrize(
    ("language", "money", "count", "percent"),
    [
        ("en", "-1,234,567.50", "12,345", "66.6 %"),
        ("de", "-1.234.567,50", "12.345", "66,6 %"),
    ],
)
def test_figures_use_the_separators_of_the_language(language, money, count, percent):
    with translation.override(language):
        assert kpi_money(Decimal("-1234567.5")) == money
        assert kpi_count(12345) == count
        # 0.6667 is shown as 66.6 % (cut after one decimal, as Django's number_format does).
        assert kpi_percent(Decimal("0.6667")) == percent
        assert kpi_money(None) == "–"

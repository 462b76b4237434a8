"""One row of figures as plain values, shared by the API and the CSV downloads (so they agree)
and by the page tables: money rounded to cents, rates to four places (0.6667 = 66.67 %), times
in stage as days with one decimal. ``None`` is a figure that cannot be computed (division by
zero, or costs under an owner filter): a dash on pages, empty in CSV, null in JSON."""

import csv
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from reporting.selectors import KpiRow

CENT = Decimal("0.01")
# Short names of the funnel's steps (charts on a phone have little room).
FUNNEL_LABELS = [_("Leads"), _("MQLs"), _("SQLs"), _("Opportunities"), _("Customers")]
RATE = Decimal("0.0001")
CONVERSIONS = [
    ("unqualified_mql", _("Lead → MQL")),
    ("mql_sql", _("MQL → SQL")),
    ("sql_opportunity", _("SQL → opportunity")),
    ("opportunity_customer", _("Opportunity → customer")),
]
MEDIANS = [
    ("unqualified", _("Median days unqualified")),
    ("mql", _("Median days as MQL")),
    ("sql", _("Median days as SQL")),
    ("opportunity", _("Median days as opportunity")),
]
COLUMNS = [
    ("key", _("Key")),
    ("label", _("Name")),
    ("visitors", _("Visitors")),
    ("visitor_to_lead", _("Visitor → lead")),
    ("leads", _("Leads")),
    ("mqls", _("MQLs")),
    ("sqls", _("SQLs")),
    ("opportunities", _("Opportunities")),
    ("customers", _("Customers")),
    *CONVERSIONS,
    ("lead_to_customer", _("Lead → customer")),
    *[(f"median_days_{name}", label) for name, label in MEDIANS],
    ("cost", _("Cost")),
    ("budget", _("Budget")),
    ("cpl", _("Cost per lead")),
    ("cpa", _("Cost per customer")),
    ("gross_margin", _("Gross margin")),
    ("roi", _("ROI")),
]


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, ROUND_HALF_UP)


def rate(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(RATE, ROUND_HALF_UP)


def days(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / Decimal(86400)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def row_values(row: KpiRow) -> dict:
    conversions = row.conversions
    key = row.key.isoformat() if hasattr(row.key, "isoformat") else row.key
    return {
        "key": key,
        "label": row.label,
        "visitors": row.visitors,
        "visitor_to_lead": rate(row.visitor_to_lead),
        "leads": row.leads,
        "mqls": row.mqls,
        "sqls": row.sqls,
        "opportunities": row.opportunities,
        "customers": row.customers,
        **{name: rate(conversions[name]) for name, _label in CONVERSIONS},
        "lead_to_customer": rate(row.lead_to_customer),
        **{f"median_days_{name}": days(row.median_seconds.get(name)) for name, _label in MEDIANS},
        "cost": money(row.cost),
        "budget": money(row.budget),
        "cpl": money(row.cpl),
        "cpa": money(row.cpa),
        "gross_margin": money(row.gross_margin),
        "roi": rate(row.roi),
    }


def funnel_steps(row: KpiRow) -> list[dict]:
    conversions = list(row.conversions.values())
    steps = []
    for index, (stage, count) in enumerate(row.funnel):
        steps.append(
            {
                "stage": stage,
                "label": str(FUNNEL_LABELS[index]),
                "count": count,
                "conversion": None if index == 0 else rate(conversions[index - 1]),
                "median_days": days(row.median_seconds.get(stage)),
            }
        )
    return steps


FUNNEL_COLUMNS = ["stage", "label", "count", "conversion", "median_days"]


def csv_response(filename: str, rows: Iterable[dict], columns: list[str]) -> HttpResponse:
    """Rows of values (row_values, funnel_steps) as a CSV download, machine column names as in
    the API, empty cells where the API has null."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for values in rows:
        writer.writerow(["" if values[name] is None else values[name] for name in columns])
    return response


KPI_COLUMNS = [name for name, _label in COLUMNS]

"""Every KPI of a report: the funnel beside costs, visitors and margins, per group, total and as
the overview's tiles."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    F,
    OuterRef,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from leads.lifecycle import FUNNEL
from leads.models import (
    Campaign,
    CampaignCost,
    Channel,
    Lead,
    Visitor,
)
from reporting.selectors.funnel import _funnel_rows, _period_key, cohort
from reporting.selectors.money import _rate_expression, _refuse_unconvertible, _unconvertible
from reporting.selectors.report import MONEY, NO_CAMPAIGN, ZERO, GroupBy, KpiRow, ReportFilter


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

"""Reads for the reports: every KPI computed by a few SQL aggregates, never a loop over leads.

A report looks at a **cohort**: the leads created in the chosen period (local days in
Europe/Berlin), attributed to a campaign by first touch (``Lead.first_campaign``, the default) or
last touch (``Lead.last_campaign``), and what became of them so far: how many reached MQL, SQL,
opportunity and customer (a lead that skipped a stage, such as one imported as SQL, counts as
having reached the ones before), how long they stayed in each stage (median), and the gross
margin of the opportunities they won. Costs are the campaign costs incurred in the same period;
visitors the website visitors first seen in it. docs/reports.md has the definitions and a
worked example.

The modules: ``report`` (what a report asks for, who may see it, the KpiRow), ``money``
(currencies and dated rates), ``funnel`` (the cohort, live or from the rollup), ``kpis`` (the
figures per group, total and overview), ``campaigns`` (budget against spend) and ``sales``
(acceptance and rep performance). Their public names are importable from here.
"""

from reporting.selectors.campaigns import (
    Spend,
    campaign_costs,
    campaign_list,
    campaign_spend,
    currencies_without_rate,
    exchange_rates,
)
from reporting.selectors.funnel import cohort, rollup_as_of
from reporting.selectors.kpis import (
    SORTS,
    Overview,
    Tile,
    campaign_choices,
    drilldown_leads,
    kpi_rows,
    kpi_table,
    kpi_total,
    overview,
)
from reporting.selectors.report import (
    NO_CAMPAIGN,
    Granularity,
    GroupBy,
    KpiRow,
    ReportFilter,
    default_period,
    may_see_reports,
    period_errors,
    report_scope,
    sees_everyones_figures,
)
from reporting.selectors.sales import mql_acceptance, rep_performance

__all__ = [
    "NO_CAMPAIGN",
    "SORTS",
    "Granularity",
    "GroupBy",
    "KpiRow",
    "Overview",
    "ReportFilter",
    "Spend",
    "Tile",
    "campaign_choices",
    "campaign_costs",
    "campaign_list",
    "campaign_spend",
    "cohort",
    "currencies_without_rate",
    "default_period",
    "drilldown_leads",
    "exchange_rates",
    "kpi_rows",
    "kpi_table",
    "kpi_total",
    "may_see_reports",
    "mql_acceptance",
    "overview",
    "period_errors",
    "rep_performance",
    "report_scope",
    "rollup_as_of",
    "sees_everyones_figures",
]

"""Report pages: thin views. The figures come from reporting.selectors; tables, charts (drawn
by static/js/reports.js from the tables themselves) and CSV downloads show the same values."""

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from leads.models import Campaign
from reporting import selectors
from reporting.export import (
    FUNNEL_COLUMNS,
    KPI_COLUMNS,
    csv_response,
    funnel_steps,
    row_values,
)
from reporting.forms import ReportFilterForm
from reporting.models import REPORT_CURRENCY
from reporting.selectors import GroupBy, ReportFilter

SORT_COLUMNS = ["label", "leads", "customers", "cost", "cpl", "cpa", "gross_margin", "roi"]


def report_view(view: Callable) -> Callable:
    """Signed in, with a role that sees reports (a sales rep: their own figures), else 403."""

    @login_required
    @require_GET
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.may_see_reports(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _filters(request: HttpRequest) -> tuple[ReportFilterForm, ReportFilter, int]:
    if request.GET:
        form = ReportFilterForm(request.GET, user=request.user)
    else:
        since, until = selectors.default_period()
        initial = {"since": since, "until": until, "granularity": "month", "attribution": "first"}
        form = ReportFilterForm(initial=initial, user=request.user)
    status = 400 if form.is_bound and not form.is_valid() else 200
    report = selectors.report_scope(user=request.user, wanted=form.report_filter())
    return form, report, status


def _sort(request: HttpRequest) -> tuple[str, bool]:
    sort = request.GET.get("sort", "roi")
    if sort not in SORT_COLUMNS:
        sort = "roi"
    return sort, request.GET.get("order", "desc") != "asc"


def _query(request: HttpRequest, **changes: str) -> str:
    params = {key: value for key, value in request.GET.items() if value}
    params.update(changes)
    return urlencode(params)


def _sort_links(request: HttpRequest, sort: str, descending: bool) -> dict[str, dict]:
    links = {}
    for column in SORT_COLUMNS:
        flip = "asc" if column == sort and descending else "desc"
        if column == "label" and column != sort:
            flip = "asc"
        links[column] = {
            "query": _query(request, sort=column, order=flip),
            "active": column == sort,
            "aria": ("descending" if descending else "ascending") if column == sort else "none",
        }
    return links


@report_view
def dashboard(request: HttpRequest) -> HttpResponse:
    form, report, status = _filters(request)
    sort, descending = _sort(request)
    context = {
        "form": form,
        "report": report,
        "currency": REPORT_CURRENCY,
        "query": _query(request),
        "sort_links": _sort_links(request, sort, descending),
        "sees_costs": report.owner_id is None,
        # The figures come from the rollup (refreshed every minute), a rep's live.
        "live": report.owner_id is not None,
        "as_of": None if report.owner_id is not None else selectors.rollup_as_of(),
    }
    try:
        # The page shows the medians of the funnel only: the other tables go without.
        result = selectors.overview(report, previous_medians=False)
        context.update(
            overview=result,
            funnel=funnel_steps(result.current),
            trend=selectors.kpi_table(report, group_by=GroupBy.PERIOD, medians=False),
            channels=selectors.kpi_table(
                report, group_by=GroupBy.CHANNEL, sort=sort, descending=descending, medians=False
            ),
            campaigns=selectors.kpi_table(
                report,
                group_by=GroupBy.CAMPAIGN,
                sort=sort,
                descending=descending,
                medians=False,
            ),
        )
    except ValidationError as exc:
        context["report_error"] = " ".join(exc.messages)
        status = 400
    return render(request, "reporting/dashboard.html", context, status=status)


@report_view
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign's figures, funnel and trend, down to its leads."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form, report, status = _filters(request)
    report = replace(report, campaign_id=campaign.pk)
    context = {
        "campaign": campaign,
        "form": form,
        "report": report,
        "currency": REPORT_CURRENCY,
        "query": _query(request),
        "sees_costs": report.owner_id is None,
    }
    try:
        total = selectors.kpi_total(report)
        context.update(
            total=total,
            funnel=funnel_steps(total),
            trend=selectors.kpi_table(report, group_by=GroupBy.PERIOD),
            leads=list(selectors.drilldown_leads(report)),
            spend=selectors.campaign_spend(campaign_id=campaign.pk),
        )
    except ValidationError as exc:
        context["report_error"] = " ".join(exc.messages)
        status = 400
    return render(request, "reporting/campaign_detail.html", context, status=status)


CSV_KINDS = {"overview", "funnel", "trend", "channels", "campaigns", "directions"}


@report_view
def export_csv(request: HttpRequest, kind: str) -> HttpResponse:
    """The figures behind a chart or table as CSV: the same values as /api/v1/reports/<kind>/."""
    if kind not in CSV_KINDS:
        raise Http404
    form, report, status = _filters(request)
    if status != 200:
        return HttpResponse(" ".join(str(e) for e in form.errors.values()), status=400)
    sort, descending = _sort(request)
    name = f"{kind}-{report.since}-{report.until}.csv"
    try:
        if kind == "funnel":
            return csv_response(name, funnel_steps(selectors.kpi_total(report)), FUNNEL_COLUMNS)
        if kind == "overview":
            result = selectors.overview(report)
            current, previous = row_values(result.current), row_values(result.previous)
            current["key"], previous["key"] = "current", "previous"
            return csv_response(name, [current, previous], KPI_COLUMNS)
        group_by = {
            "trend": GroupBy.PERIOD,
            "channels": GroupBy.CHANNEL,
            "campaigns": GroupBy.CAMPAIGN,
            "directions": GroupBy.DIRECTION,
        }[kind]
        rows = selectors.kpi_table(report, group_by=group_by, sort=sort, descending=descending)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    return csv_response(name, [row_values(row) for row in rows], KPI_COLUMNS)


@report_view
def sales_report(request: HttpRequest) -> HttpResponse:
    """MQL acceptance and rejection reasons per campaign; rep performance from opportunities."""
    form, report, status = _filters(request)
    context = {
        "form": form,
        "report": report,
        "currency": REPORT_CURRENCY,
        "query": _query(request),
        "sees_costs": report.owner_id is None,
    }
    try:
        context.update(
            acceptance=selectors.mql_acceptance(report),
            reps=selectors.rep_performance(report),
        )
    except ValidationError as exc:
        context["report_error"] = " ".join(exc.messages)
        status = 400
    return render(request, "reporting/sales.html", context, status=status)

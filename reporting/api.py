"""Reports as JSON: the same figures as the dashboard pages and their CSV downloads (the values
come from reporting.export.row_values for all three). Thin views: the filters are checked here,
the figures computed by reporting.selectors."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import MAX_ID
from leads.models import Campaign, Channel
from reporting import selectors
from reporting.export import funnel_steps, money, rate, row_values
from reporting.models import REPORT_CURRENCY, Attribution
from reporting.selectors import NO_CAMPAIGN, Granularity, GroupBy, ReportFilter

INVALID = OpenApiResponse(
    description="Invalid filters, or amounts in a currency without an exchange rate (`currency`)"
)
FORBIDDEN = OpenApiResponse(description="Your role may not see reports")


class ReportQuerySerializer(serializers.Serializer):
    since = serializers.DateField(
        required=False, help_text="First day, inclusive (default: first day of 11 months ago)"
    )
    until = serializers.DateField(required=False, help_text="Last day, inclusive (default: today)")
    attribution = serializers.ChoiceField(
        choices=Attribution.choices, default=Attribution.FIRST, help_text="First or last touch"
    )
    granularity = serializers.ChoiceField(
        choices=Granularity.choices,
        default=Granularity.MONTH,
        help_text="Buckets of the trend (Europe/Berlin days, weeks from Monday, months, quarters)",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    direction = serializers.ChoiceField(
        choices=[*Campaign.Direction.choices, (NO_CAMPAIGN, "No campaign")], required=False
    )
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    owner = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Leads owned by this user; a sales rep always gets their own",
    )

    def validate(self, attrs: dict) -> dict:
        blank = [name for name in self.fields if self.initial_data.get(name, None) == ""]
        if blank:
            raise serializers.ValidationError(
                {name: _("Give a value or leave the parameter out.") for name in blank}
            )
        default_since, default_until = selectors.default_period()
        since, until = attrs.get("since", default_since), attrs.get("until", default_until)
        errors = selectors.period_errors(since, until)
        if errors:
            raise serializers.ValidationError(errors)
        attrs["since"], attrs["until"] = since, until
        return attrs


class SortedReportQuerySerializer(ReportQuerySerializer):
    sort = serializers.ChoiceField(choices=selectors.SORTS, default="roi")
    order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")


class KpiSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text="Campaign id, channel, direction or period start"
    )
    label = serializers.CharField()
    visitors = serializers.IntegerField(allow_null=True)
    visitor_to_lead = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    leads = serializers.IntegerField()
    mqls = serializers.IntegerField()
    sqls = serializers.IntegerField()
    opportunities = serializers.IntegerField()
    customers = serializers.IntegerField()
    unqualified_mql = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    mql_sql = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    sql_opportunity = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    opportunity_customer = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True
    )
    lead_to_customer = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    median_days_unqualified = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True
    )
    median_days_mql = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    median_days_sql = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    median_days_opportunity = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True
    )
    cost = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="null under an owner filter"
    )
    budget = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    cpl = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    cpa = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    gross_margin = serializers.DecimalField(max_digits=20, decimal_places=2)
    roi = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)


class PeriodSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()


class ReportEnvelopeSerializer(serializers.Serializer):
    period = PeriodSerializer()
    attribution = serializers.CharField()
    currency = serializers.CharField(help_text="All money in this currency")
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the figures were taken: the start of the last refresh of the report "
        "rollup (every minute). null: computed live (an owner filter, the sales report), or "
        "before the first refresh.",
    )


def _report(view: APIView, request: Request, query_class=ReportQuerySerializer):
    if not selectors.may_see_reports(request.user):
        raise PermissionDenied(_("Your role may not see reports."))
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    wanted = ReportFilter(
        since=data["since"],
        until=data["until"],
        attribution=data["attribution"],
        granularity=data["granularity"],
        channel=data.get("channel"),
        direction=data.get("direction"),
        campaign_id=data.get("campaign"),
        owner_id=data.get("owner"),
    )
    return selectors.report_scope(user=request.user, wanted=wanted), data


def _envelope(report: ReportFilter, *, rollup: bool = True) -> dict:
    """``rollup``: the figures come from the rollup (not under an owner filter)."""
    return {
        "period": {"since": report.since, "until": report.until},
        "attribution": report.attribution,
        "currency": REPORT_CURRENCY,
        "as_of": selectors.rollup_as_of() if rollup and report.owner_id is None else None,
    }


class TileSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["count", "money", "percent"])
    value = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    previous = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    change = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        allow_null=True,
        help_text="Relative change vs the previous period (0.25 = +25 %)",
    )


def tile_values(tile: selectors.Tile) -> dict:
    round_ = money if tile.kind == "money" else rate
    return {
        "name": tile.name,
        "label": tile.label,
        "kind": tile.kind,
        "value": round_(tile.value),
        "previous": round_(tile.previous),
        "change": rate(tile.change),
    }


class OverviewOutputSerializer(ReportEnvelopeSerializer):
    previous_period = PeriodSerializer()
    current = KpiSerializer()
    previous = KpiSerializer()
    tiles = TileSerializer(many=True)


class ReportOverviewApi(APIView):
    """KPI tiles of the period and of the period of the same length just before it."""

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={200: OverviewOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        report, _data = _report(self, request)
        result = selectors.overview(report)
        previous = report.previous()
        payload = {
            **_envelope(report),
            "previous_period": {"since": previous.since, "until": previous.until},
            "current": row_values(result.current),
            "previous": row_values(result.previous),
            "tiles": [tile_values(tile) for tile in result.tiles],
        }
        return Response(OverviewOutputSerializer(payload).data)


class GroupedOutputSerializer(ReportEnvelopeSerializer):
    rows = KpiSerializer(many=True)


def _grouped(view: APIView, request: Request, group_by: str) -> Response:
    report, data = _report(view, request, SortedReportQuerySerializer)
    rows = selectors.kpi_table(
        report, group_by=group_by, sort=data["sort"], descending=data["order"] == "desc"
    )
    payload = {**_envelope(report), "rows": [row_values(row) for row in rows]}
    return Response(GroupedOutputSerializer(payload).data)


GROUPED = {
    "parameters": [SortedReportQuerySerializer],
    "responses": {200: GroupedOutputSerializer, 400: INVALID, 403: FORBIDDEN},
}


class ReportChannelsApi(APIView):
    """KPIs per channel, best ROI first (``sort``/``order`` to change)."""

    @extend_schema(**GROUPED)
    def get(self, request: Request) -> Response:
        return _grouped(self, request, GroupBy.CHANNEL)


class ReportCampaignsApi(APIView):
    """KPIs per campaign (``key`` is the campaign id, null: leads without a campaign)."""

    @extend_schema(**GROUPED)
    def get(self, request: Request) -> Response:
        return _grouped(self, request, GroupBy.CAMPAIGN)


class ReportDirectionsApi(APIView):
    """KPIs for inbound and outbound campaigns (and leads without a campaign)."""

    @extend_schema(**GROUPED)
    def get(self, request: Request) -> Response:
        return _grouped(self, request, GroupBy.DIRECTION)


class TrendOutputSerializer(ReportEnvelopeSerializer):
    granularity = serializers.CharField()
    rows = KpiSerializer(many=True)


class ReportTrendApi(APIView):
    """KPIs per day, week, month or quarter (``granularity``), oldest first; ``key`` is the
    bucket's first day. Buckets without leads, costs or visitors are left out."""

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={200: TrendOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        report, _data = _report(self, request)
        rows = selectors.kpi_table(report, group_by=GroupBy.PERIOD)
        payload = {
            **_envelope(report),
            "granularity": report.granularity,
            "rows": [row_values(row) for row in rows],
        }
        return Response(TrendOutputSerializer(payload).data)


class FunnelStepSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    conversion = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        allow_null=True,
        help_text="Share of the previous step that reached this one; null for the first",
    )
    median_days = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        allow_null=True,
        help_text="Median days spent in this stage before the next (null for customers)",
    )


class FunnelOutputSerializer(ReportEnvelopeSerializer):
    steps = FunnelStepSerializer(many=True)


class ReportFunnelApi(APIView):
    """The cohort's funnel, unqualified → customer, with the conversion between steps."""

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={200: FunnelOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        report, _data = _report(self, request)
        payload = {**_envelope(report), "steps": funnel_steps(selectors.kpi_total(report))}
        return Response(FunnelOutputSerializer(payload).data)


class AcceptanceRowSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField()
    accepted = serializers.IntegerField(help_text="MQLs sales moved to SQL")
    rejected = serializers.IntegerField(help_text="MQLs sales sent back")
    acceptance = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    reasons = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rejections per reason code"
    )


class RepRowSerializer(serializers.Serializer):
    owner = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField()
    accepted = serializers.IntegerField(help_text="MQLs this user accepted as SQL")
    opportunities_opened = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    won_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    won_margin = serializers.DecimalField(max_digits=20, decimal_places=2)
    sla_due = serializers.IntegerField(
        help_text="MQL hand-overs whose SLA deadline fell in the period and has passed"
    )
    sla_met = serializers.IntegerField(help_text="Of those, answered by the deadline")
    sla_compliance = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="sla_met / sla_due"
    )


class SalesOutputSerializer(ReportEnvelopeSerializer):
    acceptance = AcceptanceRowSerializer(many=True)
    reps = RepRowSerializer(many=True)


def sales_values(acceptance, reps) -> dict:
    codes = {reason.pk: reason.code for reason in acceptance.reasons}
    return {
        "acceptance": [
            {
                "campaign": row.campaign_id,
                "campaign_name": row.label,
                "accepted": row.accepted,
                "rejected": row.rejected,
                "acceptance": rate(row.acceptance),
                "reasons": {codes[pk]: count for pk, count in row.reasons.items()},
            }
            for row in acceptance.rows
        ],
        "reps": [
            {
                "owner": row.owner_id,
                "owner_name": row.label,
                "accepted": row.accepted,
                "opportunities_opened": row.created,
                "won": row.won,
                "lost": row.lost,
                "win_rate": rate(row.win_rate),
                "won_amount": money(row.won_amount),
                "won_margin": money(row.won_margin),
                "sla_due": row.sla_due,
                "sla_met": row.sla_met,
                "sla_compliance": rate(row.sla_compliance),
            }
            for row in reps
        ],
    }


class ReportSalesApi(APIView):
    """MQL acceptance per campaign (with rejection reasons) and performance per sales rep
    (opportunities opened, won and lost in the period, amount and margin won, win rate). A
    sales rep gets their own row only."""

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses={200: SalesOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        report, _data = _report(self, request)
        payload = {
            **_envelope(report, rollup=False),
            **sales_values(selectors.mql_acceptance(report), selectors.rep_performance(report)),
        }
        return Response(SalesOutputSerializer(payload).data)

"""REST API for opportunities and the pipeline: thin views over ``sales.pipeline``."""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import StrictInputSerializer, StrictPrimaryKeyRelatedField, UniqueOrderingFilter
from leads.filters import IdFilter, NoBlankValuesForm
from leads.models import LostReason, Opportunity, PipelineStage
from leads.selectors import lead_visible_to
from sales import pipeline
from sales.api import CONFLICT, INVALID, NOT_FOUND, _require, _visible_lead

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class PipelineStageSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = PipelineStage
        fields = ["id", "name", "name_de", "label", "position", "probability", "active"]


class LostReasonSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = LostReason
        fields = ["id", "code", "name", "name_de", "label", "position", "active"]


class OpportunitySerializer(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="lead_id", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    pipeline_stage = serializers.IntegerField(
        source="pipeline_stage_id", read_only=True, allow_null=True
    )
    lost_because = serializers.IntegerField(
        source="lost_because_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "lead",
            "name",
            "amount",
            "currency",
            "expected_margin",
            "gross_margin",
            "probability",
            "expected_close_on",
            "status",
            "pipeline_stage",
            "lost_because",
            "lost_reason",
            "owner",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class OpportunityFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Opportunity.Status.choices, label=gettext_lazy("Status")
    )
    owner = IdFilter(field_name="owner_id", label=gettext_lazy("Owner"))
    pipeline_stage = IdFilter(field_name="pipeline_stage_id", label=gettext_lazy("Pipeline stage"))
    lead = IdFilter(field_name="lead_id", label=gettext_lazy("Lead"))

    class Meta:
        model = Opportunity
        fields = ["status", "owner", "pipeline_stage", "lead"]
        form = NoBlankValuesForm


def _visible_opportunities(request: Request):
    return Opportunity.objects.filter(lead__in=lead_visible_to(request.user))


class _Requires:
    """Refuse (403) a role without ``required_permission`` before anything is read."""

    required_permission = ""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        _require(self, request, self.required_permission)


class OpportunityListApi(_Requires, generics.ListAPIView):
    """The opportunities of the leads you may see (a rep: their own)."""

    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, UniqueOrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    required_permission = "leads.view_opportunity"

    def get_queryset(self):
        return _visible_opportunities(self.request)

    @extend_schema(responses={200: OpportunitySerializer(many=True), 400: INVALID})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class OpportunityDetailApi(_Requires, generics.RetrieveAPIView):
    serializer_class = OpportunitySerializer
    required_permission = "leads.view_opportunity"

    def get_queryset(self):
        return _visible_opportunities(self.request)


class LeadConvertApi(APIView):
    """An SQL becomes an opportunity on the pipeline's first step (the lead moves to
    ``opportunity``). 409 when the lead is not an SQL."""

    class ConvertInputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200)
        amount = serializers.DecimalField(**MONEY)
        expected_margin = serializers.DecimalField(**MONEY)
        currency = serializers.RegexField(r"\A[A-Za-z]{3}\Z", default="EUR")
        expected_close_on = serializers.DateField(required=False, allow_null=True)

    @extend_schema(
        request=ConvertInputSerializer,
        responses={201: OpportunitySerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(self, request, "leads.add_opportunity")
        lead = _visible_lead(request, pk)
        serializer = self.ConvertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opportunity = pipeline.opportunity_convert(
            lead_id=lead.pk, by_user=request.user, **serializer.validated_data
        )
        return Response(OpportunitySerializer(opportunity).data, status=status.HTTP_201_CREATED)


class _OpportunityAction(APIView):
    def _opportunity(self, request: Request, pk: int) -> Opportunity:
        _require(self, request, "leads.change_opportunity")
        return get_object_or_404(_visible_opportunities(request), pk=pk)


ACTION_RESPONSES = {
    200: OpportunitySerializer,
    400: INVALID,
    404: OpenApiResponse(description="No such opportunity, or not one you may see"),
}


class OpportunityMoveApi(_OpportunityAction):
    """To another open step of the pipeline; it takes that step's probability."""

    class MoveInputSerializer(StrictInputSerializer):
        pipeline_stage = StrictPrimaryKeyRelatedField(
            queryset=PipelineStage.objects.filter(active=True)
        )

    @extend_schema(request=MoveInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        opportunity = self._opportunity(request, pk)
        serializer = self.MoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        moved = pipeline.opportunity_move(
            opportunity_id=opportunity.pk,
            stage_id=serializer.validated_data["pipeline_stage"].pk,
            by_user=request.user,
        )
        return Response(OpportunitySerializer(moved).data)


CLOSE_RESPONSES = {**ACTION_RESPONSES, 409: CONFLICT}


class OpportunityWonApi(_OpportunityAction):
    """Won with the real amount and gross margin; the lead becomes a customer (409 when the
    lead's stage changed meanwhile and the lifecycle does not allow it)."""

    class WonInputSerializer(StrictInputSerializer):
        amount = serializers.DecimalField(**MONEY)
        gross_margin = serializers.DecimalField(**MONEY)

    @extend_schema(request=WonInputSerializer, responses=CLOSE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        opportunity = self._opportunity(request, pk)
        serializer = self.WonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        won = pipeline.opportunity_win(
            opportunity_id=opportunity.pk, by_user=request.user, **serializer.validated_data
        )
        return Response(OpportunitySerializer(won).data)


class OpportunityLostApi(_OpportunityAction):
    """Lost for a reason from /api/v1/lost-reasons/; the lead goes back to nurture."""

    class LostInputSerializer(StrictInputSerializer):
        lost_because = StrictPrimaryKeyRelatedField(queryset=LostReason.objects.filter(active=True))
        note = serializers.CharField(max_length=255, required=False, allow_blank=True)

    @extend_schema(request=LostInputSerializer, responses=CLOSE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        opportunity = self._opportunity(request, pk)
        serializer = self.LostInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lost = pipeline.opportunity_lose(
            opportunity_id=opportunity.pk,
            by_user=request.user,
            reason_id=serializer.validated_data["lost_because"].pk,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(OpportunitySerializer(lost).data)


class PipelineStageListApi(_Requires, generics.ListAPIView):
    """The pipeline's steps, in order (inactive ones included, marked)."""

    serializer_class = PipelineStageSerializer
    pagination_class = None
    filter_backends: list = []
    queryset = PipelineStage.objects.all()
    required_permission = "leads.view_pipelinestage"


class LostReasonListApi(_Requires, generics.ListAPIView):
    serializer_class = LostReasonSerializer
    pagination_class = None
    filter_backends: list = []
    queryset = LostReason.objects.all()
    required_permission = "leads.view_lostreason"

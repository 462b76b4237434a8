"""REST API of scoring: a lead's score breakdown (thin; the reading is scoring.selectors')."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import selectors as lead_selectors
from leads.models import RANKS, EventKind, Grade, Temperature
from leads.permissions import LeadModelPermissions
from scoring.models import GradeRule
from scoring.selectors import BREAKDOWN_LIMIT, lead_score_breakdown


class ScoreGradeRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    field = serializers.ChoiceField(choices=GradeRule.Field.choices)
    operator = serializers.ChoiceField(choices=GradeRule.Operator.choices)
    value = serializers.CharField(help_text="Several values separated by commas")
    points = serializers.IntegerField()


class ScoreRuleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ScoreEventRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    url = serializers.CharField(allow_blank=True)
    asset = serializers.CharField(allow_blank=True)


class ScoreEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="entry.id")
    rule = ScoreRuleRefSerializer(source="entry.rule")
    event = ScoreEventRefSerializer(source="entry.event")
    at = serializers.DateTimeField(source="entry.at", help_text="When the event occurred")
    points = serializers.IntegerField(source="entry.points")
    value_now = serializers.FloatField(help_text="points × 0.5^(age / half-life), 2 decimals")
    halves_next_at = serializers.DateTimeField()


class ScoreMqlReviewSerializer(serializers.Serializer):
    flagged_at = serializers.DateTimeField()
    behaviour_score = serializers.FloatField(help_text="The behaviour score when flagged")
    grade = serializers.ChoiceField(choices=Grade.choices, help_text="The grade when flagged")


class LeadScoreApi(APIView):
    """Why a lead you may see has its grade and score: the grade rules that matched and those
    that did not, and every behaviour point (newest first, at most ``entries_limit``) with its
    decayed value now and when it next halves."""

    permission_classes = [permissions.IsAuthenticated, LeadModelPermissions]

    @extend_schema_serializer(component_name="LeadScore")
    class OutputSerializer(serializers.Serializer):
        lead = serializers.SerializerMethodField()
        fit_points = serializers.IntegerField()
        grade = serializers.ChoiceField(choices=Grade.choices)
        matched_grade_rules = ScoreGradeRuleSerializer(many=True)
        unmatched_grade_rules = ScoreGradeRuleSerializer(many=True)
        behaviour_score = serializers.FloatField(
            help_text="Decayed sum of all points, as last stored (refreshed nightly and on "
            "every scored event)"
        )
        half_life_days = serializers.IntegerField()
        rank = serializers.ChoiceField(choices=[(rank, rank) for rank in RANKS])
        temperature = serializers.ChoiceField(choices=Temperature.choices)
        mql_review = ScoreMqlReviewSerializer(
            source="review",
            allow_null=True,
            help_text="Set when an MQL no longer meets the MQL condition and waits for a person",
        )
        entries = ScoreEntrySerializer(source="points", many=True)
        entries_limit = serializers.SerializerMethodField()

        def get_lead(self, breakdown) -> int:
            return self.context["lead_id"]

        def get_entries_limit(self, breakdown) -> int:
            return BREAKDOWN_LIMIT

    def get_queryset(self):
        return lead_selectors.lead_detail(user=self.request.user)

    @extend_schema(
        responses={
            200: OutputSerializer,
            404: OpenApiResponse(description="No such lead, or not one you may see"),
        }
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(self.get_queryset(), pk=pk)
        breakdown = lead_score_breakdown(lead=lead)
        return Response(self.OutputSerializer(breakdown, context={"lead_id": lead.pk}).data)

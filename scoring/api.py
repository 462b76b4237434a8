"""REST API of scoring, thin: a lead's score breakdown (anyone who may see the lead; the reading
is scoring.selectors'), and for admins the profile and its rules, what-if previews, saves and
their progress, versions (serializers check the shape, ``scoring.proposals`` and
``scoring.services`` what it means; their errors come back as 400s naming the field's path)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import KeysetCursorPagination, StrictInputSerializer
from leads import selectors as lead_selectors
from leads.models import RANKS, EventKind, Grade, Temperature
from leads.permissions import LeadModelPermissions
from scoring import proposals, selectors, services
from scoring.models import BehaviourRule, GradeRule, ProfileVersion, Rescoring
from scoring.rescoring import rescoring_progress, rescoring_save_preview, rescoring_start
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


# The scoring profile and rules (admins) -----------------------------------------------------------

RANK_CHOICES = [(rank, rank) for rank in proposals.RANKS]
INVALID = OpenApiResponse(description="Invalid fields; the body names each one by its path")


class IsScoringAdmin(permissions.BasePermission):
    """Only those who may change the scoring profile (the admin role) use this API."""

    message = gettext_lazy("Only admins may read and change the scoring rules through the API.")

    def has_permission(self, request: Request, view) -> bool:
        return bool(request.user and request.user.has_perms(("scoring.change_scoringprofile",)))


class ProfileSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    grade_a_min = serializers.IntegerField(min_value=-2_147_483_648, max_value=2_147_483_647)
    grade_b_min = serializers.IntegerField(min_value=-2_147_483_648, max_value=2_147_483_647)
    grade_c_min = serializers.IntegerField(min_value=-2_147_483_648, max_value=2_147_483_647)
    band_1_min = serializers.FloatField(min_value=-1e9, max_value=1e9)
    band_2_min = serializers.FloatField(min_value=-1e9, max_value=1e9)
    band_3_min = serializers.FloatField(min_value=-1e9, max_value=1e9)
    half_life_days = serializers.IntegerField(min_value=1, max_value=3650)
    hot_ranks = serializers.ListField(child=serializers.ChoiceField(choices=RANK_CHOICES))
    warm_ranks = serializers.ListField(child=serializers.ChoiceField(choices=RANK_CHOICES))
    mql_grades = serializers.RegexField(
        r"^[ABCD]{1,4}$", help_text="One or more of A, B, C, D, e.g. AB"
    )
    mql_min_score = serializers.FloatField(min_value=-1e9, max_value=1e9)


class GradeRuleSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        allow_null=True, min_value=1, help_text="null for a new rule; a rule left out is deleted"
    )
    field = serializers.ChoiceField(choices=GradeRule.Field.choices)
    operator = serializers.ChoiceField(choices=GradeRule.Operator.choices)
    value = serializers.CharField(max_length=500, help_text="Several values separated by commas")
    points = serializers.IntegerField(min_value=-100, max_value=100)


class BehaviourRuleSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        allow_null=True, min_value=1, help_text="null for a new rule; a rule left out is deleted"
    )
    name = serializers.CharField(max_length=100)
    event_kind = serializers.ChoiceField(choices=EventKind.choices)
    pattern = serializers.CharField(
        max_length=255, allow_blank=True, help_text="Optional; * matches anything"
    )
    points = serializers.IntegerField(min_value=-100, max_value=100)
    frequency = serializers.ChoiceField(choices=BehaviourRule.Frequency.choices)
    cap_points = serializers.IntegerField(
        allow_null=True, min_value=0, max_value=32767, help_text="With cap_days, or both null"
    )
    cap_days = serializers.IntegerField(allow_null=True, min_value=1, max_value=32767)


class ProposalSerializer(serializers.Serializer):
    """The whole profile and its rules; the list order is the rules' order."""

    profile = ProfileSerializer()
    grade_rules = GradeRuleSerializer(many=True, max_length=200)
    behaviour_rules = BehaviourRuleSerializer(many=True, max_length=200)


class ProfileOutputSerializer(ProposalSerializer):
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(allow_null=True, help_text="Username")


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Steps done (ranges of lead ids)")
    total = serializers.IntegerField()


class SampleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    stage = serializers.CharField()
    grade = serializers.CharField()
    new_grade = serializers.CharField()
    rank = serializers.CharField()
    new_rank = serializers.CharField()
    temperature = serializers.CharField()
    new_temperature = serializers.CharField()
    behaviour_score = serializers.FloatField()
    new_score = serializers.FloatField()


class ResultSerializer(serializers.Serializer):
    leads = serializers.IntegerField()
    grade_changed = serializers.IntegerField()
    rank_changed = serializers.IntegerField()
    temperature_changed = serializers.IntegerField()
    become_mql = serializers.IntegerField(help_text="Leads that (would) become MQL")
    flagged = serializers.IntegerField(help_text="MQLs that (would) be flagged for review")
    grade_moves = serializers.DictField(
        child=serializers.IntegerField(), help_text='e.g. {"B→A": 12}'
    )
    samples = SampleSerializer(many=True)


class RescoringOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Rescoring.Kind.choices)
    status = serializers.ChoiceField(choices=Rescoring.Status.choices)
    base_version = serializers.IntegerField()
    progress = ProgressSerializer()
    result = ResultSerializer(allow_null=True, help_text="Set once the status is done")
    error = serializers.CharField(help_text="Set when the status is failed")
    created_by = serializers.CharField(allow_null=True, help_text="Username")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def _rescoring_data(rescoring: Rescoring) -> dict[str, Any]:
    done, total = rescoring_progress(rescoring=rescoring)
    data = {
        "id": rescoring.pk,
        "kind": rescoring.kind,
        "status": rescoring.status,
        "base_version": rescoring.base_version,
        "progress": {"done": done, "total": total},
        "result": rescoring.result if rescoring.status == Rescoring.Status.DONE else None,
        # Our own messages (a stale save) in the client's language; others as written.
        "error": _(rescoring.error) if rescoring.error else "",
        "created_by": rescoring.created_by.get_username() if rescoring.created_by else None,
        "created_at": rescoring.created_at,
        "started_at": rescoring.started_at,
        "finished_at": rescoring.finished_at,
    }
    return RescoringOutputSerializer(data).data


def _rescoring_response(rescoring: Rescoring, code: int = status.HTTP_200_OK) -> Response:
    headers = {}
    if code == status.HTTP_202_ACCEPTED:
        headers["Location"] = f"/api/v1/scoring/rescorings/{rescoring.pk}/"
    return Response(_rescoring_data(rescoring), status=code, headers=headers)


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    """The service names fields inside the proposal (``grade_rules.2.value``); the client sent
    them inside ``proposal``."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {
            key if key == "base_version" else f"{prefix}.{key}": errors
            for key, errors in exc.error_dict.items()
        }
    )


class ProfileApi(APIView):
    """The scoring profile in force and its rules, as a proposal to change (with its version)."""

    permission_classes = [permissions.IsAuthenticated, IsScoringAdmin]

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: Request) -> Response:
        profile = services.active_profile()
        data = {
            **proposals.snapshot(profile),
            "version": profile.version,
            "updated_at": profile.updated_at,
            "updated_by": profile.updated_by.get_username() if profile.updated_by else None,
        }
        return Response(ProfileOutputSerializer(data).data)


class RescoringCreateApi(APIView):
    """Preview a proposal (what would change, nothing kept) or save it and rescore every lead.
    Runs in the background: poll GET /api/v1/scoring/rescorings/{id}/ until it is done."""

    permission_classes = [permissions.IsAuthenticated, IsScoringAdmin]

    @extend_schema_serializer(component_name="RescoringInput")
    class InputSerializer(StrictInputSerializer):
        kind = serializers.ChoiceField(choices=Rescoring.Kind.choices)
        proposal = ProposalSerializer()
        base_version = serializers.IntegerField(
            min_value=1,
            max_value=2_147_483_647,
            help_text="The version the proposal was made on (GET /api/v1/scoring/profile/); "
            "a save over a newer one is refused",
        )

    @extend_schema(
        request=InputSerializer, responses={202: RescoringOutputSerializer, 400: INVALID}
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            rescoring = rescoring_start(
                kind=data["kind"],
                proposal=_plain(data["proposal"]),
                by_user=request.user,
                base_version=data["base_version"],
            )
        except ValidationError as exc:
            raise _prefixed(exc, "proposal") from exc
        return _rescoring_response(rescoring, status.HTTP_202_ACCEPTED)


def _plain(value: Any) -> Any:
    """Validated data (OrderedDicts) as the plain JSON the services store."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class RescoringDetailApi(APIView):
    """A preview or save: its status, progress and, once done, what it changes (or changed)."""

    permission_classes = [permissions.IsAuthenticated, IsScoringAdmin]

    @extend_schema(responses={200: RescoringOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        rescoring = get_object_or_404(Rescoring.objects.select_related("created_by"), pk=pk)
        return _rescoring_response(rescoring)


class RescoringSaveApi(APIView):
    """Save exactly what a finished preview showed and rescore every lead. 400 (``base_version``)
    when someone saved the rules after the preview, (``preview``) when it has not finished."""

    permission_classes = [permissions.IsAuthenticated, IsScoringAdmin]

    @extend_schema(request=None, responses={202: RescoringOutputSerializer, 400: INVALID})
    def post(self, request: Request, pk: int) -> Response:
        preview = get_object_or_404(Rescoring, pk=pk, kind=Rescoring.Kind.PREVIEW)
        rescoring = rescoring_save_preview(preview_id=preview.pk, by_user=request.user)
        return _rescoring_response(rescoring, status.HTTP_202_ACCEPTED)


class VersionPagination(KeysetCursorPagination):
    ordering = ("-version", "-id")
    page_size = 25


class VersionListApi(generics.ListAPIView):
    """Every saved version of the profile, newest first: who, when, the whole snapshot and what
    changed against the version before."""

    permission_classes = [permissions.IsAuthenticated, IsScoringAdmin]
    pagination_class = VersionPagination
    filter_backends: list = []

    @extend_schema_serializer(component_name="ProfileVersion")
    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField()
        saved_by = serializers.CharField(allow_null=True, help_text="Username")
        saved_at = serializers.DateTimeField()
        changes = serializers.ListField(
            child=serializers.CharField(), help_text="What changed against the version before"
        )
        snapshot = ProposalSerializer()

    serializer_class = OutputSerializer

    def get_queryset(self):
        return ProfileVersion.objects.filter(profile=services.active_profile()).select_related(
            "saved_by"
        )

    @extend_schema(
        responses={
            200: OutputSerializer(many=True),
            400: OpenApiResponse(description="Invalid cursor or page size, named by parameter"),
        }
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        profile = services.active_profile()
        changes = {
            entry.version: entry.changes
            for entry in selectors.profile_version_history(profile=profile, versions=page)
        }
        rows = [
            {
                "version": version.version,
                "saved_by": version.saved_by.get_username() if version.saved_by else None,
                "saved_at": version.saved_at,
                "changes": changes.get(version.version, []),
                "snapshot": version.snapshot,
            }
            for version in page
        ]
        return self.get_paginated_response(self.OutputSerializer(rows, many=True).data)

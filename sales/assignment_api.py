"""REST API for assignment: reassign leads, teams, rules, rep profiles, team load, SLA and
notifications. Thin: serializers check input, sales.assignment writes, sales.selectors reads."""

from datetime import time

from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import StrictInputSerializer, StrictPrimaryKeyRelatedField
from leads.models import Industry
from leads.selectors import assignable_owners
from sales import assignment, notifications, selectors, teams
from sales.api import INVALID, NOT_FOUND, UserRefSerializer, _require, _visible_lead
from sales.models import AssignmentRule, RepProfile, Team, Weekday

FORBIDDEN = OpenApiResponse(description="Your role may not do this")
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ClockTimeField(serializers.RegexField):
    """A wall-clock time of the team's time zone, ``"HH:MM"`` (no offset: the zone is the
    team's)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", "Local time in the team's time zone, HH:MM")
        super().__init__(CLOCK, max_length=5, **kwargs)

    def run_validation(self, data=serializers.empty) -> time:
        # The pattern and length are checked on the text; the service gets a time.
        value = super().run_validation(data)
        return time(int(value[:2]), int(value[3:]))

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    owner = UserRefSerializer()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    rule = serializers.IntegerField(source="rule_id", allow_null=True)
    rule_name = serializers.CharField(help_text="The rule that assigned it; empty: a person")
    by_user = UserRefSerializer(allow_null=True, help_text="Who reassigned it; null: a rule")
    at = serializers.DateTimeField()
    sla_due_at = serializers.DateTimeField(allow_null=True)
    sla_closed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the rep accepted or rejected the MQL"
    )
    escalated_at = serializers.DateTimeField(allow_null=True)


class LeadsReassignApi(APIView):
    """Give one or many leads to another sales rep or manager (managers and admins). Each lead's
    timeline records it; an MQL's SLA starts again for the new owner."""

    class ReassignInputSerializer(StrictInputSerializer):
        lead_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
            min_length=1,
            max_length=1000,
        )
        to_user = StrictPrimaryKeyRelatedField(
            queryset=assignable_owners(), help_text="An active sales rep or manager"
        )

    class ReassignOutputSerializer(serializers.Serializer):
        reassigned = serializers.IntegerField(help_text="Leads that changed owner")
        assignments = AssignmentOutputSerializer(many=True)

    @extend_schema(
        request=ReassignInputSerializer,
        responses={200: ReassignOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        _require(self, request, "sales.add_assignment")
        serializer = self.ReassignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = assignment.leads_reassign(by_user=request.user, **serializer.validated_data)
        data = {"reassigned": len(made), "assignments": made}
        return Response(self.ReassignOutputSerializer(data).data)


class LeadAssignmentsApi(APIView):
    """A lead's assignments, newest first: who got it, by which rule or person, and its SLA."""

    @extend_schema(responses={200: AssignmentOutputSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.view_assignment")
        lead = _visible_lead(request, pk)
        rows = selectors.lead_assignments(lead=lead)
        return Response(AssignmentOutputSerializer(rows, many=True).data)


# --- teams -------------------------------------------------------------------------------------


class TeamOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    managers = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()
    workdays = serializers.ListField(child=serializers.IntegerField(), help_text="Monday 0")
    day_starts = ClockTimeField()
    day_ends = ClockTimeField()
    time_zone = serializers.CharField()
    sla_hours = serializers.IntegerField()

    def get_managers(self, team: Team) -> list[int]:
        return [user.pk for user in team.managers.all()]

    def get_members(self, team: Team) -> list[int]:
        return [member.user_id for member in team.members.all()]


class TeamInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    managers = StrictPrimaryKeyRelatedField(
        many=True, required=False, queryset=get_user_model().objects.filter(is_active=True)
    )
    workdays = serializers.ListField(
        child=serializers.ChoiceField(choices=Weekday.choices),
        required=False,
        min_length=1,
        max_length=7,
    )
    day_starts = ClockTimeField(required=False)
    day_ends = ClockTimeField(required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    sla_hours = serializers.IntegerField(min_value=1, max_value=2000, required=False)


def _team_or_404(pk: int) -> Team:
    return get_object_or_404(Team.objects.prefetch_related("managers", "members"), pk=pk)


class TeamListApi(APIView):
    """Sales teams with their business calendar and SLA; managers and admins add them."""

    @extend_schema(responses={200: TeamOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_team")
        return Response(TeamOutputSerializer(selectors.teams_with_members(), many=True).data)

    @extend_schema(
        request=TeamInputSerializer,
        responses={201: TeamOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        _require(self, request, "sales.add_team")
        serializer = TeamInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = teams.team_save(**serializer.validated_data)
        return Response(
            TeamOutputSerializer(_team_or_404(team.pk)).data, status=status.HTTP_201_CREATED
        )


class TeamDetailApi(APIView):
    @extend_schema(responses={200: TeamOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.view_team")
        return Response(TeamOutputSerializer(_team_or_404(pk)).data)

    @extend_schema(
        request=TeamInputSerializer,
        responses={200: TeamOutputSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def put(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.change_team")
        team = _team_or_404(pk)
        serializer = TeamInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        teams.team_save(team_id=team.pk, **serializer.validated_data)
        return Response(TeamOutputSerializer(_team_or_404(pk)).data)

    @extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.delete_team")
        teams.team_delete(team_id=_team_or_404(pk).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- rules -------------------------------------------------------------------------------------


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id")
    countries = serializers.ListField(child=serializers.CharField(), help_text="Empty: any")
    industries = serializers.ListField(child=serializers.CharField(), help_text="Empty: any")
    active = serializers.BooleanField()


class RuleInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    team = StrictPrimaryKeyRelatedField(queryset=Team.objects.all())
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    countries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2),
        required=False,
        max_length=250,
        help_text="ISO 3166 country codes (the territory); empty: any country",
    )
    industries = serializers.ListField(
        child=serializers.ChoiceField(choices=[c for c in Industry.choices if c[0]]),
        required=False,
        help_text="Industries of the lead's company; empty: any industry",
    )
    active = serializers.BooleanField(required=False)


class RuleListApi(APIView):
    """Assignment rules, in the order they are tried: the first active rule that fits a new MQL
    and whose team has an available rep with room takes it."""

    @extend_schema(responses={200: RuleOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_assignmentrule")
        return Response(RuleOutputSerializer(selectors.assignment_rules(), many=True).data)

    @extend_schema(
        request=RuleInputSerializer,
        responses={201: RuleOutputSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        _require(self, request, "sales.add_assignmentrule")
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = teams.assignment_rule_save(**serializer.validated_data)
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    @extend_schema(responses={200: RuleOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.view_assignmentrule")
        return Response(RuleOutputSerializer(get_object_or_404(AssignmentRule, pk=pk)).data)

    @extend_schema(
        request=RuleInputSerializer,
        responses={200: RuleOutputSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def put(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.change_assignmentrule")
        rule = get_object_or_404(AssignmentRule, pk=pk)
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = teams.assignment_rule_save(rule_id=rule.pk, **serializer.validated_data)
        return Response(RuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.delete_assignmentrule")
        teams.assignment_rule_delete(rule_id=get_object_or_404(AssignmentRule, pk=pk).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reps --------------------------------------------------------------------------------------


class RepProfileSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team_id", allow_null=True)
    capacity = serializers.IntegerField(allow_null=True, help_text="null: no limit")
    away = serializers.BooleanField()
    away_until = serializers.DateTimeField(allow_null=True)
    notify_by_email = serializers.BooleanField()
    assigned_count = serializers.IntegerField(help_text="Round-robin count in the current team")


class RepProfileInputSerializer(StrictInputSerializer):
    team = StrictPrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    capacity = serializers.IntegerField(
        min_value=0, max_value=10_000, allow_null=True, required=False
    )
    away = serializers.BooleanField(required=False)
    away_until = serializers.DateTimeField(allow_null=True, required=False)
    notify_by_email = serializers.BooleanField(required=False)


class RepProfileApi(APIView):
    """What assignment knows about a rep. Managers and admins change anything; a rep changes
    their own ``away``, ``away_until`` and ``notify_by_email`` (``/reps/me/profile/``); another
    rep's profile is a 404 for a rep."""

    def _user(self, request: Request, user_id: int | None):
        if user_id is None or user_id == request.user.pk:
            return request.user
        if not assignment.may_reassign(request.user):
            raise Http404
        return get_object_or_404(selectors.rep_profiles(), pk=user_id)

    @extend_schema(responses={200: RepProfileSerializer, 404: NOT_FOUND})
    def get(self, request: Request, user_id: int | None = None) -> Response:
        _require(self, request, "sales.view_repprofile")
        user = self._user(request, user_id)
        profile = RepProfile.objects.filter(user=user).first() or RepProfile(user=user)
        return Response(RepProfileSerializer(profile).data)

    @extend_schema(
        request=RepProfileInputSerializer,
        responses={200: RepProfileSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request: Request, user_id: int | None = None) -> Response:
        _require(self, request, "sales.view_repprofile")
        user = self._user(request, user_id)
        serializer = RepProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = teams.rep_profile_update(
            user=user, by_user=request.user, **serializer.validated_data
        )
        return Response(RepProfileSerializer(profile).data)


class TeamLoadApi(APIView):
    """Open MQLs, SQLs and overdue MQLs per rep of the teams you manage (admins: all teams)."""

    class RepLoadSerializer(serializers.Serializer):
        user_id = serializers.IntegerField()
        name = serializers.CharField()
        team = serializers.CharField()
        open_mqls = serializers.IntegerField()
        open_sqls = serializers.IntegerField()
        overdue = serializers.IntegerField()
        capacity = serializers.IntegerField(allow_null=True)
        away = serializers.BooleanField()
        full = serializers.BooleanField()

    @extend_schema(responses={200: RepLoadSerializer(many=True), 403: FORBIDDEN})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.change_team")
        rows = selectors.team_load(request.user)
        return Response(self.RepLoadSerializer(rows, many=True).data)


# --- notifications -----------------------------------------------------------------------------


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    lead = serializers.IntegerField(source="lead_id", allow_null=True)
    assignment = AssignmentOutputSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    """Your newest 100 notifications and how many are unread."""

    class NotificationsSerializer(serializers.Serializer):
        unread = serializers.IntegerField()
        results = NotificationOutputSerializer(many=True)

    @extend_schema(responses={200: NotificationsSerializer})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_notification")
        data = {
            "unread": selectors.unread_notification_count(request.user),
            "results": selectors.notifications_for(request.user),
        }
        return Response(self.NotificationsSerializer(data).data)


class NotificationReadApi(APIView):
    """Mark your notifications read: those in ``ids``, or all when ``ids`` is left out."""

    class ReadInputSerializer(StrictInputSerializer):
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
            required=False,
            max_length=1000,
        )

    class ReadOutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField()

    @extend_schema(request=ReadInputSerializer, responses={200: ReadOutputSerializer, 400: INVALID})
    def post(self, request: Request) -> Response:
        _require(self, request, "sales.view_notification")
        serializer = self.ReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notifications.notifications_mark_read(
            user=request.user, ids=serializer.validated_data.get("ids")
        )
        return Response(self.ReadOutputSerializer({"marked": marked}).data)

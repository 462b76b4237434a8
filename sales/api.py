"""REST API for sales work: thin views; input checked by serializers, writes done by services."""

import django_filters
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import StrictInputSerializer, StrictPrimaryKeyRelatedField, UniqueOrderingFilter
from leads.api import LeadTransitionApi
from leads.filters import IdFilter, NoBlankValuesForm, StrictBooleanFilter
from leads.models import Activity
from leads.selectors import assignable_owners, lead_detail, lead_is_visible_to
from sales import selectors, services
from sales.models import BANT, MEDDIC, QualificationPolicy, Rejection, RejectionReason

INVALID = OpenApiResponse(description="Invalid fields; the body names each one")
NOT_FOUND = OpenApiResponse(description="No such lead, or not one you may see")
CONFLICT = inline_serializer(
    "SalesConflict", {"detail": serializers.CharField(), "lead_id": serializers.IntegerField()}
)


def _require(view: APIView, request: Request, perm: str) -> None:
    if not request.user.has_perm(perm):
        view.permission_denied(request, _("Your role may not do this."))


def _visible_lead(request: Request, pk: int):
    return get_object_or_404(lead_detail(user=request.user), pk=pk)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


# --- qualification -------------------------------------------------------------------------

CRITERIA = [name for name, _label, _hint in [*BANT, *MEDDIC]]


def _criteria_fields(*, output: bool) -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    for name, _label, hint in [*BANT, *MEDDIC]:
        if output:
            fields[name] = serializers.CharField(help_text=str(hint))
            fields[f"{name}_confirmed"] = serializers.BooleanField()
        else:
            fields[name] = serializers.CharField(
                max_length=2000, required=False, allow_blank=True, help_text=str(hint)
            )
            fields[f"{name}_confirmed"] = serializers.BooleanField(required=False)
    return fields


QualificationInputSerializer = type(
    "QualificationInputSerializer",
    (StrictInputSerializer,),
    {
        **_criteria_fields(output=False),
        "__doc__": "Criteria to store; fields left out stay as they are. A criterion marked "
        "confirmed needs its text.",
    },
)


class QualificationPolicySerializer(serializers.Serializer):
    bant_minimum = serializers.IntegerField(min_value=0, max_value=4)
    meddic_minimum = serializers.IntegerField(min_value=0, max_value=6)


QualificationOutputSerializer = type(
    "QualificationOutputSerializer",
    (serializers.Serializer,),
    {
        "lead": serializers.IntegerField(),
        **_criteria_fields(output=True),
        "bant_confirmed_count": serializers.IntegerField(),
        "meddic_confirmed_count": serializers.IntegerField(),
        "policy": QualificationPolicySerializer(),
        "missing": serializers.DictField(
            child=serializers.CharField(),
            help_text="What stands between this lead and acceptance, by field; empty when ready.",
        ),
        "ready": serializers.BooleanField(),
        "updated_at": serializers.DateTimeField(allow_null=True),
        "updated_by": UserRefSerializer(allow_null=True),
    },
)


def _qualification_data(lead) -> dict:
    qualification = selectors.lead_qualification(lead=lead)
    policy = selectors.qualification_policy()
    missing = services.missing_for_acceptance(qualification, policy)
    data = {"lead": lead.pk}
    for name in CRITERIA:
        data[name] = getattr(qualification, name) if qualification else ""
        data[f"{name}_confirmed"] = (
            getattr(qualification, f"{name}_confirmed") if qualification else False
        )
    data.update(
        bant_confirmed_count=qualification.bant_confirmed if qualification else 0,
        meddic_confirmed_count=qualification.meddic_confirmed if qualification else 0,
        policy=policy,
        missing=missing,
        ready=not missing,
        updated_at=qualification.updated_at if qualification else None,
        updated_by=qualification.updated_by if qualification else None,
    )
    return QualificationOutputSerializer(data).data


class LeadQualificationApi(APIView):
    """A lead's BANT and MEDDIC qualification, and whether it is enough to accept the lead."""

    @extend_schema(responses={200: QualificationOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.view_qualification")
        return Response(_qualification_data(_visible_lead(request, pk)))

    @extend_schema(
        request=QualificationInputSerializer,
        responses={200: QualificationOutputSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    def put(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.change_qualification")
        lead = _visible_lead(request, pk)
        serializer = QualificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.qualification_save(
            lead_id=lead.pk, by_user=request.user, **serializer.validated_data
        )
        return Response(_qualification_data(lead))


class LeadQualificationAcceptApi(APIView):
    """Accept the MQL as SQL: the criteria sent (if any) are saved first. 400 naming each
    criterion still unconfirmed when the configured minimum does not hold (nothing is saved)."""

    @extend_schema(
        request=QualificationInputSerializer,
        responses={
            200: LeadTransitionApi.OutputSerializer,
            400: INVALID,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.change_qualification")
        _require(self, request, "leads.transition_lead")
        lead = _visible_lead(request, pk)
        serializer = QualificationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transition = services.qualification_accept(
            lead_id=lead.pk, by_user=request.user, **serializer.validated_data
        )
        return Response(LeadTransitionApi.OutputSerializer(transition).data)


class RejectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    reason = serializers.IntegerField(source="reason_id")
    reason_name = serializers.CharField(source="reason.label")
    note = serializers.CharField()
    to_stage = serializers.CharField()
    campaign = serializers.IntegerField(source="campaign_id", allow_null=True)
    transition = serializers.IntegerField(source="transition_id")
    by_user = serializers.IntegerField(source="by_user_id", allow_null=True)
    at = serializers.DateTimeField()


class LeadQualificationRejectApi(APIView):
    """Send the MQL back to nurture or disqualify it, with a reason from
    /api/v1/rejection-reasons/ (and a note where the reason requires one)."""

    class RejectInputSerializer(StrictInputSerializer):
        reason = StrictPrimaryKeyRelatedField(queryset=RejectionReason.objects.filter(active=True))
        to_stage = serializers.ChoiceField(
            choices=Rejection.ToStage.choices, default=Rejection.ToStage.NURTURE
        )
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        request=RejectInputSerializer,
        responses={201: RejectionOutputSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.add_rejection")
        _require(self, request, "leads.transition_lead")
        lead = _visible_lead(request, pk)
        serializer = self.RejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rejection = services.qualification_reject(
            lead_id=lead.pk, by_user=request.user, **serializer.validated_data
        )
        return Response(RejectionOutputSerializer(rejection).data, status=status.HTTP_201_CREATED)


class QualificationPolicyApi(APIView):
    """How many criteria must be confirmed before an MQL can be accepted."""

    @extend_schema(responses={200: QualificationPolicySerializer})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_qualificationpolicy")
        return Response(QualificationPolicySerializer(selectors.qualification_policy()).data)

    @extend_schema(
        request=QualificationPolicySerializer,
        responses={200: QualificationPolicySerializer, 400: INVALID},
    )
    def put(self, request: Request) -> Response:
        _require(self, request, "sales.change_qualificationpolicy")
        serializer = QualificationPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy: QualificationPolicy = services.qualification_policy_update(
            by_user=request.user, **serializer.validated_data
        )
        return Response(QualificationPolicySerializer(policy).data)


# --- rejection reasons ---------------------------------------------------------------------


class ReasonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_de = serializers.CharField()
    label = serializers.CharField(help_text="The name in the request's language")
    requires_note = serializers.BooleanField()
    active = serializers.BooleanField()
    position = serializers.IntegerField()


class ReasonInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    name_de = serializers.CharField(max_length=100, required=False, allow_blank=True)
    code = serializers.SlugField(
        max_length=40, required=False, help_text="Made from the name when left out"
    )
    requires_note = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)


class RejectionReasonListApi(APIView):
    """The reasons sales picks from when rejecting an MQL; admins add and change them."""

    @extend_schema(responses={200: ReasonOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_rejectionreason")
        reasons = selectors.rejection_reasons(active_only=False)
        return Response(ReasonOutputSerializer(reasons, many=True).data)

    @extend_schema(
        request=ReasonInputSerializer, responses={201: ReasonOutputSerializer, 400: INVALID}
    )
    def post(self, request: Request) -> Response:
        _require(self, request, "sales.add_rejectionreason")
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = services.rejection_reason_create(**serializer.validated_data)
        return Response(ReasonOutputSerializer(reason).data, status=status.HTTP_201_CREATED)


class RejectionReasonDetailApi(APIView):
    """One reason: read, change, or delete it if no rejection uses it (409: deactivate it)."""

    @extend_schema(responses={200: ReasonOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.view_rejectionreason")
        return Response(ReasonOutputSerializer(get_object_or_404(RejectionReason, pk=pk)).data)

    @extend_schema(
        request=ReasonInputSerializer(partial=True),
        responses={200: ReasonOutputSerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.change_rejectionreason")
        reason = get_object_or_404(RejectionReason, pk=pk)
        serializer = ReasonInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        reason = services.rejection_reason_update(reason_id=reason.pk, **serializer.validated_data)
        return Response(ReasonOutputSerializer(reason).data)

    @extend_schema(
        responses={
            204: None,
            404: NOT_FOUND,
            409: inline_serializer(
                "ReasonInUse",
                {
                    "detail": serializers.CharField(),
                    "reason_id": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                },
            ),
        }
    )
    def delete(self, request: Request, pk: int) -> Response:
        _require(self, request, "sales.delete_rejectionreason")
        reason = get_object_or_404(RejectionReason, pk=pk)
        services.rejection_reason_delete(reason_id=reason.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RejectionSummaryApi(APIView):
    """Rejected MQLs per first-touch campaign and reason (the "Rejected MQLs" page's table)."""

    class RejectionSummaryQuerySerializer(serializers.Serializer):
        since = serializers.DateField(required=False, help_text="First day, inclusive")
        until = serializers.DateField(required=False, help_text="Last day, inclusive")

        def validate(self, attrs: dict) -> dict:
            # A query string's empty value (?since=) is a mistake to report, not "no filter".
            blank = [name for name in self.fields if self.initial_data.get(name, None) == ""]
            if blank:
                raise serializers.ValidationError(
                    {name: _("Give a value or leave the parameter out.") for name in blank}
                )
            return attrs

    class RejectionSummaryRowSerializer(serializers.Serializer):
        campaign = serializers.IntegerField(allow_null=True)
        campaign_name = serializers.CharField(allow_null=True)
        reason = serializers.IntegerField()
        reason_name = serializers.CharField()
        count = serializers.IntegerField()

    @extend_schema(
        parameters=[RejectionSummaryQuerySerializer],
        responses={200: RejectionSummaryRowSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request) -> Response:
        _require(self, request, "sales.view_rejection")
        query = self.RejectionSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        table = selectors.rejections_by_campaign(**query.validated_data)
        rows = [
            {
                "campaign": row.campaign.pk if row.campaign else None,
                "campaign_name": row.campaign.name if row.campaign else None,
                "reason": reason.pk,
                "reason_name": reason.label,
                "count": count,
            }
            for row in table.rows
            for reason, count in zip(table.reasons, row.counts, strict=True)
            if count
        ]
        return Response(self.RejectionSummaryRowSerializer(rows, many=True).data)


# --- activities and tasks ------------------------------------------------------------------


class DueChoices:
    OVERDUE = "overdue"
    TODAY = "today"
    UPCOMING = "upcoming"
    CHOICES = [
        (OVERDUE, gettext_lazy("Overdue")),
        (TODAY, gettext_lazy("Due later today")),
        (UPCOMING, gettext_lazy("Due after today")),
    ]


class ActivityFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id", label=gettext_lazy("Lead"))
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, label=gettext_lazy("Kind"))
    mine = StrictBooleanFilter(method="filter_mine", label=gettext_lazy("Assigned to me"))
    done = StrictBooleanFilter(
        field_name="done_at", lookup_expr="isnull", exclude=True, label=gettext_lazy("Done")
    )
    due = django_filters.ChoiceFilter(
        choices=DueChoices.CHOICES,
        method="filter_due",
        label=gettext_lazy("Open tasks due: overdue, later today or after today"),
    )

    class Meta:
        model = Activity
        fields = ["lead", "kind", "mine", "done", "due"]
        form = NoBlankValuesForm

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)

    def filter_due(self, queryset, name, value):
        now = timezone.now()
        _today, tomorrow = selectors.local_day_bounds(now)
        condition = {
            DueChoices.OVERDUE: Q(due_at__lt=now),
            DueChoices.TODAY: Q(due_at__gte=now, due_at__lt=tomorrow),
            DueChoices.UPCOMING: Q(due_at__gte=tomorrow),
        }[value]
        return queryset.filter(condition, kind=Activity.Kind.TASK, done_at__isnull=True)


class LeadRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class ActivityOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = LeadRefSerializer()
    kind = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    assignee = UserRefSerializer(allow_null=True)
    author = UserRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class ActivityListCreateApi(generics.ListAPIView):
    """Activities on the leads you may see (filter: lead, kind, mine, done, due), or log one.
    ``kind: task`` creates a task (``subject`` and ``due_at`` required, ``assignee`` optional:
    you by default); the other kinds record a call, meeting, e-mail or note."""

    serializer_class = ActivityOutputSerializer
    filterset_class = ActivityFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, UniqueOrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    class ActivityCreateInputSerializer(StrictInputSerializer):
        lead = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        kind = serializers.ChoiceField(choices=Activity.Kind.choices)
        subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
        body = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
        due_at = serializers.DateTimeField(
            required=False, help_text="Tasks only: when it is due (required for tasks)"
        )
        assignee = StrictPrimaryKeyRelatedField(
            queryset=assignable_owners(),
            required=False,
            help_text="Tasks only: an active sales rep or manager (a rep: only themselves)",
        )

        def validate(self, attrs: dict) -> dict:
            if attrs["kind"] != Activity.Kind.TASK:
                extra = sorted({"due_at", "assignee"} & set(attrs))
                if extra:
                    raise serializers.ValidationError(
                        {name: _("Only tasks have this field.") for name in extra}
                    )
            elif "due_at" not in attrs:
                raise serializers.ValidationError(
                    {"due_at": _("Enter the date and time the task is due.")}
                )
            return attrs

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user)

    @extend_schema(
        responses={
            200: ActivityOutputSerializer(many=True),
            400: OpenApiResponse(description="Invalid filter or cursor, named by parameter"),
        }
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        _require(self, request, "leads.view_activity")
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ActivityCreateInputSerializer,
        responses={201: ActivityOutputSerializer, 400: INVALID, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        _require(self, request, "leads.add_activity")
        serializer = self.ActivityCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lead_id = data.pop("lead")
        if not lead_is_visible_to(user=request.user, lead_id=lead_id):
            raise serializers.ValidationError({"lead": _("No such lead, or not one you may see.")})
        kind = data.pop("kind")
        if kind == Activity.Kind.TASK:
            activity = services.task_create(
                lead_id=lead_id,
                by_user=request.user,
                subject=data.get("subject", ""),
                body=data.get("body", ""),
                due_at=data["due_at"],
                assignee=data.get("assignee"),
            )
        else:
            activity = services.activity_log(
                lead_id=lead_id,
                by_user=request.user,
                kind=kind,
                subject=data.get("subject", ""),
                body=data.get("body", ""),
            )
        activity = selectors.activities_visible_to(request.user).get(pk=activity.pk)
        return Response(ActivityOutputSerializer(activity).data, status=status.HTTP_201_CREATED)


class ActivityDetailApi(APIView):
    @extend_schema(responses={200: ActivityOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        _require(self, request, "leads.view_activity")
        activity = get_object_or_404(selectors.activities_visible_to(request.user), pk=pk)
        return Response(ActivityOutputSerializer(activity).data)


class TaskDoneApi(APIView):
    """Tick a task off (``complete``) or reopen it (``reopen``); repeating either changes
    nothing. 400 naming ``kind`` for an activity that is not a task."""

    done = True

    @extend_schema(
        request=None, responses={200: ActivityOutputSerializer, 400: INVALID, 404: NOT_FOUND}
    )
    def post(self, request: Request, pk: int) -> Response:
        _require(self, request, "leads.change_activity")
        try:
            services.task_set_done(activity_id=pk, by_user=request.user, done=self.done)
        except Activity.DoesNotExist as exc:
            raise Http404 from exc
        activity = selectors.activities_visible_to(request.user).get(pk=pk)
        return Response(ActivityOutputSerializer(activity).data)


class TaskReopenApi(TaskDoneApi):
    done = False

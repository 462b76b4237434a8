"""REST API for leads: thin views; input checked by serializers, writes done by services."""

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import cached_property

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadcrm.api import (
    CountedKeysetPagination,
    KeptFilterBackend,
    StrictInputSerializer,
    StrictPrimaryKeyRelatedField,
    UniqueOrderingFilter,
)
from leads import selectors, services
from leads.exceptions import StageManagedElsewhere
from leads.filters import LeadApiFilter
from leads.lifecycle import (
    REASON_REQUIRED,
    Stage,
    allowed_next_stages,
    managed_elsewhere,
    offered_next_stages,
)
from leads.models import Campaign, Company, Lead
from leads.permissions import LeadModelPermissions, can_assign_owner


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OwnerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


# One unbound field formats every timestamp as the declared DateTimeFields do (ISO 8601 in the
# current time zone), without building the ModelSerializer's fields on each request.
def _timestamp(value: datetime | None, zone: tzinfo) -> str | None:
    """What DRF's DateTimeField writes (ISO 8601 in the current time zone, UTC as Z), without
    its per-call settings and time-zone lookups: three timestamps a lead, 150 a page."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return f"{text[:-6]}Z" if text.endswith("+00:00") else text


class LeadOutputSerializer(serializers.ModelSerializer):
    company = CompanyRefSerializer(allow_null=True)
    owner = OwnerRefSerializer(allow_null=True)
    full_name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code, or empty")
    allowed_next_stages = serializers.SerializerMethodField()
    fit_points = serializers.IntegerField(source="score.fit_points")
    behaviour_score = serializers.SerializerMethodField(
        help_text="Decayed behaviour points, to two decimal places"
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "phone",
            "job_title",
            "seniority",
            "country",
            "city",
            "language",
            "age_band",
            "company",
            "stage",
            "stage_changed_at",
            "allowed_next_stages",
            "owner",
            "grade",
            "fit_points",
            "behaviour_score",
            "rank",
            "temperature",
            "source_channel",
            "first_campaign",
            "last_campaign",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "created_at",
            "updated_at",
        ]

    def get_allowed_next_stages(self, lead: Lead) -> list[str]:
        return allowed_next_stages(lead.stage)

    @cached_property
    def _zone(self) -> tzinfo:
        """The request's time zone, looked up once for the page's leads (one serializer writes
        them all) rather than for each: a context-local read, 50 of them took 0.2 ms."""
        return timezone.get_current_timezone()

    @extend_schema_field(float)
    def get_behaviour_score(self, lead: Lead) -> float:
        return round(lead.score.behaviour_score, 2)

    def to_representation(self, lead: Lead | Mapping) -> dict:
        """The declared fields, built in one pass from a row of LEAD_ROW_VALUES (the list reads
        its page as such rows) or from a lead with its company, owner and score. DRF's generic
        walk over 35 fields cost about 20 ms per page of 50 leads, and making the page's 150
        model instances about 3 ms more (docs/benchmarks.md); the declarations above still type
        the OpenAPI schema, and a test holds this output equal to the generic one."""
        row = lead if isinstance(lead, Mapping) else lead_row(lead)
        zone = self._zone
        owner_id = row["owner_id"]
        return {
            "id": row["id"],
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "full_name": f"{row['first_name']} {row['last_name']}".strip(),
            "phone": row["phone"],
            "job_title": row["job_title"],
            "seniority": row["seniority"],
            "country": str(row["country"]),
            "city": row["city"],
            "language": row["language"],
            "age_band": row["age_band"],
            "company": None
            if row["company_id"] is None
            else {"id": row["company_id"], "name": row["company__name"]},
            "stage": row["stage"],
            "stage_changed_at": _timestamp(row["stage_changed_at"], zone),
            "allowed_next_stages": allowed_next_stages(row["stage"]),
            "owner": None
            if owner_id is None
            else {
                "id": owner_id,
                "username": row["owner__username"],
                # As User.get_full_name() writes it.
                "name": f"{row['owner__first_name']} {row['owner__last_name']}".strip(),
            },
            "grade": row["grade"],
            "fit_points": row["score__fit_points"],
            "behaviour_score": round(row["score__behaviour_score"], 2),
            "rank": row["rank"],
            "temperature": row["temperature"],
            "source_channel": row["source_channel"],
            "first_campaign": row["first_campaign_id"],
            "last_campaign": row["last_campaign_id"],
            "utm_source": row["utm_source"],
            "utm_medium": row["utm_medium"],
            "utm_campaign": row["utm_campaign"],
            "utm_term": row["utm_term"],
            "utm_content": row["utm_content"],
            "created_at": _timestamp(row["created_at"], zone),
            "updated_at": _timestamp(row["updated_at"], zone),
        }


# What LeadOutputSerializer reads of a lead, as ``values()`` names them; the list's ordering
# fields too (rank_order, score__lead_id), which its cursor reads from the page's last row.
LEAD_ROW_VALUES = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "job_title",
    "seniority",
    "country",
    "city",
    "language",
    "age_band",
    "company_id",
    "company__name",
    "stage",
    "stage_changed_at",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "grade",
    "score__fit_points",
    "score__behaviour_score",
    "score__lead_id",
    "rank",
    "rank_order",
    "temperature",
    "source_channel",
    "first_campaign_id",
    "last_campaign_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "created_at",
    "updated_at",
)


def lead_row(lead: Lead) -> dict:
    """LEAD_ROW_VALUES read from a lead and its related rows (None past a missing one)."""
    row = {}
    for path in LEAD_ROW_VALUES:
        value = lead
        for name in path.split("__"):
            value = None if value is None else getattr(value, name)
        row[path] = value
    return row


class LeadFieldsInputSerializer(StrictInputSerializer):
    """The lead fields a client may write; create and change each nest their own subclass.

    The stage is never written here: a new lead starts unqualified, and stages change through
    POST /api/v1/leads/{id}/transition/.
    """

    stage_message = gettext_lazy("Change the stage with POST /api/v1/leads/{id}/transition/.")

    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    seniority = serializers.ChoiceField(
        choices=Lead._meta.get_field("seniority").choices, required=False, allow_blank=True
    )
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    age_band = serializers.ChoiceField(
        choices=Lead._meta.get_field("age_band").choices, required=False, allow_blank=True
    )
    company = StrictPrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, allow_null=True
    )
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    owner = StrictPrimaryKeyRelatedField(
        queryset=selectors.assignable_owners(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Id of an active sales rep or sales manager; a sales rep may only assign themselves."
        ),
        error_messages={
            "does_not_exist": gettext_lazy(
                "User {pk_value} cannot own leads: choose an active sales rep or sales manager "
                "(a sales rep only themselves)."
            )
        },
    )
    source_channel = serializers.ChoiceField(
        choices=Lead._meta.get_field("source_channel").choices, required=False
    )
    first_campaign = StrictPrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    last_campaign = StrictPrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    utm_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_term = serializers.CharField(max_length=100, required=False, allow_blank=True)
    utm_content = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["owner"].queryset = selectors.assignable_owners(for_user=request.user)

    def validate(self, attrs: dict) -> dict:
        if "stage" in self.initial_data:
            raise serializers.ValidationError({"stage": self.stage_message})
        return attrs

    def validate_country(self, value: str) -> str:
        return value.upper()

    def validate_owner(self, value):
        if not can_assign_owner(self.context["request"].user, value):
            raise serializers.ValidationError(_("You may only assign leads to yourself."))
        return value


INVALID = OpenApiResponse(description="Invalid fields; the body names each one")
NOT_FOUND = OpenApiResponse(description="No such lead, or not one you may see")
LEAD_CONFLICT = inline_serializer(
    "LeadConflict",
    {"detail": serializers.CharField(), "lead_id": serializers.IntegerField()},
)


def _check_visible(request: Request, pk: int) -> None:
    if not selectors.lead_is_visible_to(user=request.user, lead_id=pk):
        raise Http404


class LeadListCreateApi(generics.ListAPIView):
    """List the leads you may see (filter, sort, cursor-paginate) or create one."""

    permission_classes = [permissions.IsAuthenticated, LeadModelPermissions]
    serializer_class = LeadOutputSerializer
    pagination_class = CountedKeysetPagination
    filterset_class = LeadApiFilter
    filter_backends = [KeptFilterBackend, UniqueOrderingFilter]
    ordering_fields = ["created_at", "updated_at", "stage_changed_at", "behaviour_score", "rank"]
    ordering_aliases = {
        # Best rank first (A1 … D4), then the newest, as the page's "Best rank"; one direction
        # throughout, read from the lead_best_rank index.
        "rank": ("-rank_order", "-created_at"),
        # The score lives in the lead's LeadScore row; read in order from its index.
        "behaviour_score": ("score__behaviour_score",),
    }
    # Ties on the score are broken by the score row's lead id (the lead's): a page's cursor is
    # then (score, score row's lead id), the columns of leadscore_score, which a deep page
    # starts from; with the lead's own id last it could not, and page 21 read the 1,050 scores
    # above it.
    ordering_tiebreakers = {"score__behaviour_score": "score__lead_id"}
    ordering = ["-created_at", "-id"]

    @extend_schema_serializer(component_name="LeadCreateInput")
    class InputSerializer(LeadFieldsInputSerializer):
        stage_message = gettext_lazy(
            "A new lead starts unqualified; change its stage afterwards with "
            "POST /api/v1/leads/{id}/transition/."
        )

    # The pagination reads the page as these values (leadcrm.api.KeysetCursorPagination).
    row_values = LEAD_ROW_VALUES

    def get_queryset(self):
        return selectors.lead_list(
            user=self.request.user, joins=(), owner=self.request.query_params.get("owner")
        )

    @extend_schema(
        responses={
            200: LeadOutputSerializer(many=True),
            400: OpenApiResponse(description="Invalid filter or cursor, named by parameter"),
        }
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=InputSerializer, responses={201: LeadOutputSerializer, 400: INVALID})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create(created_by=request.user, **serializer.validated_data)
        return Response(LeadOutputSerializer(lead).data, status=status.HTTP_201_CREATED)


class LeadDetailApi(APIView):
    """Read, change (PATCH) or delete one lead you may see."""

    permission_classes = [permissions.IsAuthenticated, LeadModelPermissions]

    @extend_schema_serializer(component_name="LeadUpdateInput")
    class InputSerializer(LeadFieldsInputSerializer):
        pass

    def get_queryset(self):
        return selectors.lead_detail(user=self.request.user)

    @extend_schema(responses={200: LeadOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(LeadOutputSerializer(lead).data)

    @extend_schema(
        request=InputSerializer(partial=True),
        responses={200: LeadOutputSerializer, 400: INVALID, 404: NOT_FOUND, 409: LEAD_CONFLICT},
    )
    def patch(self, request: Request, pk: int) -> Response:
        _check_visible(request, pk)
        serializer = self.InputSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        # The service locks the row and checks again that this user may still see it (409 if it
        # was reassigned meanwhile); its lead is the answer, even if the edit took it out of
        # the user's sight (a rep handing an MQL back, say).
        lead = services.lead_update(lead_id=pk, by_user=request.user, **serializer.validated_data)
        return Response(LeadOutputSerializer(lead).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND, 409: LEAD_CONFLICT})
    def delete(self, request: Request, pk: int) -> Response:
        _check_visible(request, pk)
        services.lead_delete(lead_id=pk, by_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadClaimApi(APIView):
    """A sales rep (or manager) takes an unassigned MQL; 409 when someone else was faster."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: LeadOutputSerializer, 400: INVALID, 404: NOT_FOUND, 409: LEAD_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_perm("leads.change_lead"):
            self.permission_denied(request, _("You may not change leads."))
        # No visibility check first: every unassigned MQL is visible to a rep, and a lead that is
        # not one (another rep's, or an unknown id) gets the same 409, so nothing leaks, and the
        # slower of two racing reps always hears that someone was faster.
        lead = services.lead_claim(lead_id=pk, user=request.user)
        return Response(LeadOutputSerializer(lead).data)


class TransitionToStageSerializer(serializers.Serializer):
    """For the schema: a move into the funnel, where a reason is optional."""

    to_stage = serializers.ChoiceField(
        choices=[choice for choice in Stage.choices if choice[0] not in REASON_REQUIRED]
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TransitionOutOfFunnelSerializer(serializers.Serializer):
    """For the schema: leaving the funnel (nurture, disqualified) needs a reason."""

    to_stage = serializers.ChoiceField(
        choices=[choice for choice in Stage.choices if choice[0] in REASON_REQUIRED]
    )
    reason = serializers.RegexField(r"\S", max_length=2000)


class LeadTransitionApi(APIView):
    """Move a lead to another stage. 409 with the allowed next stages when the move is forbidden."""

    permission_classes = [permissions.IsAuthenticated]

    class InputSerializer(StrictInputSerializer):
        to_stage = serializers.ChoiceField(choices=Stage.choices)
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        def validate(self, attrs: dict) -> dict:
            if attrs["to_stage"] in REASON_REQUIRED and not attrs.get("reason", "").strip():
                raise serializers.ValidationError(
                    {"reason": _("Say why the lead leaves the funnel.")}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        lead = serializers.IntegerField(source="lead_id")
        from_stage = serializers.CharField()
        to_stage = serializers.CharField()
        at = serializers.DateTimeField()
        by_user = serializers.IntegerField(source="by_user_id", allow_null=True)
        reason = serializers.CharField()
        allowed_next_stages = serializers.SerializerMethodField()

        def get_allowed_next_stages(self, transition) -> list[str]:
            return allowed_next_stages(transition.to_stage)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="TransitionInput",
            serializers=[TransitionToStageSerializer, TransitionOutOfFunnelSerializer],
            resource_type_field_name=None,
        ),
        responses={
            200: OutputSerializer,
            400: INVALID,
            404: NOT_FOUND,
            409: inline_serializer(
                "TransitionConflict",
                {
                    "detail": serializers.CharField(),
                    "from_stage": serializers.CharField(),
                    "to_stage": serializers.CharField(),
                    "allowed": serializers.ListField(child=serializers.CharField()),
                },
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_perm("leads.transition_lead"):
            self.permission_denied(request, _("You may not change lead stages."))
        _check_visible(request, pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_stage = serializer.validated_data["to_stage"]
        stage = Lead.objects.filter(pk=pk).values_list("stage", flat=True).first()
        how = managed_elsewhere(stage or "", to_stage)
        if how is not None:
            raise StageManagedElsewhere(
                from_stage=stage, to_stage=to_stage, how=how, allowed=offered_next_stages(stage)
            )
        transition = services.lead_transition(
            lead_id=pk, by_user=request.user, **serializer.validated_data
        )
        return Response(self.OutputSerializer(transition).data)


# --- Upsert by e-mail -----------------------------------------------------------------------------


class CanUpsertLeads(permissions.BasePermission):
    """Upserting may create and may change a lead: it needs both permissions. The roles holding
    them (marketer, sales manager, admin) see every lead, so the answer never tells a user about
    a lead they may not see; leads.services.lead_upsert refuses such a change anyway."""

    message = gettext_lazy("You may not add and change leads.")

    def has_permission(self, request: Request, view) -> bool:
        return request.user.has_perms(["leads.add_lead", "leads.change_lead"])


class LeadUpsertApi(APIView):
    """Create the lead with this e-mail address, or update the one that has it (matched trimmed
    and case-insensitively). Empty or missing fields never blank what an existing lead has."""

    permission_classes = [permissions.IsAuthenticated, CanUpsertLeads]

    @extend_schema_serializer(component_name="LeadUpsertInput")
    class InputSerializer(LeadFieldsInputSerializer):
        stage_message = gettext_lazy(
            "An upsert never changes the stage; use POST /api/v1/leads/{id}/transition/."
        )

    @extend_schema_serializer(component_name="LeadUpsertResult")
    class OutputSerializer(serializers.Serializer):
        result = serializers.ChoiceField(
            choices=[("created", "created"), ("updated", "updated")],
            help_text=gettext_lazy("Whether a new lead was made or an existing one updated."),
        )
        lead = LeadOutputSerializer()

    @extend_schema(
        operation_id="leads_upsert",
        request=InputSerializer,
        responses={
            200: OpenApiResponse(OutputSerializer, description="An existing lead was updated"),
            201: OpenApiResponse(OutputSerializer, description="A new lead was created"),
            400: INVALID,
            # The matching lead was deleted between finding and locking it: send it again.
            409: LEAD_CONFLICT,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        lead, created = services.lead_upsert(by_user=request.user, **serializer.validated_data)
        return Response(
            {
                "result": "created" if created else "updated",
                "lead": LeadOutputSerializer(lead).data,
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

"""The events batch API: integrations send up to 1,000 events at once, all or nothing."""

import json
from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from capture.intake import VISITOR_ID
from leadcrm.api import MAX_ID, StrictInputSerializer
from leads import selectors
from leads.event_services import EventRow, events_record_bulk
from leads.models import Campaign, EventKind
from leads.normalize import normalize_email

BATCH_MAX = 1000
PROPERTIES_MAX = 8000
# Clocks differ a little; an event further ahead than this has not happened yet.
CLOCK_SKEW = timedelta(minutes=5)


class EventItemSerializer(StrictInputSerializer):
    lead = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=gettext_lazy("Lead id")
    )
    email = serializers.EmailField(
        max_length=254, required=False, help_text=gettext_lazy("E-mail address of a lead")
    )
    visitor_id = serializers.RegexField(
        VISITOR_ID.pattern.removesuffix(r"\Z"),
        required=False,
        help_text=gettext_lazy("Website visitor id (16 to 64 of A–Z, a–z, 0–9, - and _)"),
    )
    kind = serializers.ChoiceField(choices=EventKind.choices)
    url = serializers.URLField(
        max_length=2000,
        required=False,
        allow_blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
    )
    asset = serializers.CharField(max_length=255, required=False, allow_blank=True)
    campaign = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Campaign id"),
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text=gettext_lazy("Default: when the request arrives")
    )
    properties = serializers.DictField(required=False)
    idempotency_key = serializers.CharField(
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "An event whose key is already stored (within 7 days) is not stored again."
        ),
    )

    def validate_occurred_at(self, value):
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("An event cannot lie in the future."))
        return value

    def validate_properties(self, value: dict) -> dict:
        text = json.dumps(value)
        if len(text) > PROPERTIES_MAX:
            raise serializers.ValidationError(
                _("Keep the properties below %(size)d characters of JSON.")
                % {"size": PROPERTIES_MAX}
            )
        if "\\u0000" in text:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return value

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data).difference(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {str(name)[:50]: [_("Unknown field.")] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("lead", "email", "visitor_id") if name in attrs]
        if len(given) != 1:
            message = _("Name the event's lead by exactly one of lead, email or visitor_id.")
            raise serializers.ValidationError({name: [message] for name in given or ["lead"]})
        return attrs


class EventBatchApi(APIView):
    """Record a batch of events: all of them, or none when any is invalid."""

    permission_classes = [permissions.IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        events = EventItemSerializer(many=True, allow_empty=False, max_length=BATCH_MAX)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer(
                "EventBatchResult",
                {
                    "created": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(
                        help_text=gettext_lazy("Events whose idempotency key was already stored")
                    ),
                    "ids": serializers.ListField(
                        child=serializers.IntegerField(allow_null=True),
                        help_text=gettext_lazy(
                            "The new event ids in the order sent; null for a duplicate"
                        ),
                    ),
                },
            ),
            400: OpenApiResponse(
                description=(
                    "Invalid batch: `events` names what is wrong with the batch as a whole, "
                    '`errors` maps each invalid item\'s index to its fields, e.g. {"errors": '
                    '{"3": {"kind": ["…"]}}}. Nothing is stored.'
                )
            ),
        },
        examples=[
            OpenApiExample(
                "Two events",
                request_only=True,
                value={
                    "events": [
                        {
                            "email": "anna.schmidt@example.com",
                            "kind": "webinar_attended",
                            "asset": "Webinar: KI im Vertrieb",
                            "campaign": 3,
                            "occurred_at": "2026-03-12T10:30:00+01:00",
                            "idempotency_key": "webinar-812-attendee-5521",
                        },
                        {
                            "visitor_id": "4f1c2b9e8a7d6c5b4a39281706f5e4d3",
                            "kind": "download",
                            "url": "https://www.example.com/whitepaper.pdf",
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if not request.user.has_perm("leads.add_event"):
            self.permission_denied(request, _("You may not record events."))
        items = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise serializers.ValidationError(
                {"events": [_("Send a non-empty list of events in “events”.")]}
            )
        if len(items) > BATCH_MAX:
            raise serializers.ValidationError(
                {
                    "events": [
                        _("Send at most %(max)s events per request; this batch has %(count)s.")
                        % {"max": f"{BATCH_MAX:,}", "count": f"{len(items):,}"}
                    ]
                }
            )
        unknown = set(request.data).difference({"events"})
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Unknown field.")] for name in sorted(unknown)}
            )
        errors, valid = {}, []
        for index, item in enumerate(items):
            serializer = EventItemSerializer(data=item)
            if serializer.is_valid():
                valid.append((index, serializer.validated_data))
            else:
                errors[str(index)] = serializer.errors
        rows = _rows(valid, user=request.user, errors=errors)
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        ids = events_record_bulk(events=rows)
        created = sum(1 for event_id in ids if event_id is not None)
        return Response(
            {"created": created, "duplicates": len(ids) - created, "ids": ids},
            status=status.HTTP_201_CREATED,
        )


def _rows(items: list[tuple[int, dict]], *, user, errors: dict) -> list[EventRow]:
    """The (index, item) pairs as event rows, their leads and campaigns looked up in one query
    each (a lead must be one the user may see); what is not found goes into ``errors`` by
    index."""
    visible = selectors.lead_visible_to(user)
    lead_ids = {item["lead"] for _index, item in items if "lead" in item}
    leads = set(visible.filter(pk__in=lead_ids).values_list("pk", flat=True)) if lead_ids else set()
    email_keys = {}
    for index, item in items:
        if "email" in item:
            try:
                email_keys[index] = normalize_email(item["email"])
            except DjangoValidationError:
                errors[str(index)] = {"email": [_("Enter a valid email address.")]}
    by_email = (
        dict(visible.filter(email_key__in=set(email_keys.values())).values_list("email_key", "pk"))
        if email_keys
        else {}
    )
    campaign_ids = {item["campaign"] for _index, item in items if item.get("campaign")}
    campaigns = (
        set(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", flat=True))
        if campaign_ids
        else set()
    )
    now = timezone.now()
    rows = []
    for index, item in items:
        item_errors = {}
        lead_id = item.get("lead")
        if lead_id is not None and lead_id not in leads:
            item_errors["lead"] = [_("No lead with id %(id)s that you may see.") % {"id": lead_id}]
        if index in email_keys:
            lead_id = by_email.get(email_keys[index])
            if lead_id is None and str(index) not in errors:
                item_errors["email"] = [_("No lead with this e-mail address that you may see.")]
        campaign_id = item.get("campaign")
        if campaign_id is not None and campaign_id not in campaigns:
            item_errors["campaign"] = [_("No campaign with id %(id)s.") % {"id": campaign_id}]
        if item_errors:
            errors.setdefault(str(index), {}).update(item_errors)
            continue
        rows.append(
            EventRow(
                kind=item["kind"],
                lead_id=lead_id,
                visitor_id=item.get("visitor_id", ""),
                url=item.get("url", ""),
                asset=item.get("asset", ""),
                campaign_id=campaign_id,
                occurred_at=item.get("occurred_at") or now,
                properties=item.get("properties") or {},
                idempotency_key=item.get("idempotency_key", ""),
            )
        )
    return rows

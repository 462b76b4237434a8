"""Webhook endpoints and deliveries: every write, and the HTTP attempt itself.

An attempt runs in a Celery task, outside any database transaction: it claims the delivery with a
conditional UPDATE (so a task delivered twice sends once), makes the request, and records the
outcome with another UPDATE. Receivers should still deduplicate on the event id: delivery is at
least once (a worker may stop between the request and the record).
"""

import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.api import LeadOutputSerializer
from leads.models import Lead, StageTransition
from webhooks.addresses import ResolutionFailed, UrlRefused, check_url
from webhooks.models import TEST_EVENT, EventType, WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "X-LeadCRM-Signature"
USER_AGENT = "LeadCRM-Webhooks/1.0"
# Event ids are derived from what happened (uuid5), so a repeated fan-out finds the same ids.
EVENT_NAMESPACE = uuid.UUID("6f1c7a52-4a3e-4f7e-9a55-2b8d0f7c9e11")
EXCERPT_CHARS = 500
READ_LIMIT = 4096
# A countdown may fire a moment before the stored time; accept it that early.
RETRY_SLACK = timedelta(seconds=1)
# The sweep: a delivery still waiting this long after it was due lost its task; one "sending"
# this long lost its worker (the task's hard time limit is 40 s).
LATE_AFTER = timedelta(minutes=2)
STUCK_AFTER = timedelta(minutes=2)

Status = WebhookDelivery.Status


def generate_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError({"url": _("Enter a valid URL.")}) from exc
    try:
        check_url(
            url,
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE,
            require_https=settings.WEBHOOKS_REQUIRE_HTTPS,
        )
    except (UrlRefused, ResolutionFailed) as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events).difference(EventType.values))
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event: %(events)s.") % {"events": ", ".join(unknown)}}
        )
    chosen = [event for event in EventType.values if event in events]
    if not chosen:
        raise ValidationError({"events": _("Choose at least one event.")})
    return chosen


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    is_active: bool = True,
    by_user: AbstractBaseUser | None,
) -> WebhookEndpoint:
    """Register an endpoint with a new signing secret; its URL must reach a public address."""
    endpoint = WebhookEndpoint(
        url=_check_url(url),
        events=_check_events(events),
        description=description.strip(),
        is_active=is_active,
        secret=generate_secret(),
        created_by=by_user,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint_id: int, url: str, events: list[str], description: str, is_active: bool
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if url.strip() != endpoint.url:
        endpoint.url = _check_url(url)
    endpoint.events = _check_events(events)
    endpoint.description = description.strip()
    endpoint.is_active = is_active
    endpoint.updated_at = timezone.now()
    endpoint.full_clean()
    endpoint.save(update_fields=["url", "events", "description", "is_active", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint_id: int) -> WebhookEndpoint:
    """A new signing secret; deliveries signed from now on use it."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.secret = generate_secret()
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint_id: int) -> None:
    """Delete an endpoint with its delivery log."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).delete()


def _payload(*, event_id: uuid.UUID, event_type: str, occurred_at: datetime, data: dict) -> dict:
    return {
        "id": str(event_id),
        "type": event_type,
        "occurred_at": _utc(occurred_at),
        "data": data,
    }


def _lead_data(lead: Lead) -> dict:
    """The lead as the API shows it (GET /api/v1/leads/{id}/)."""
    return dict(LeadOutputSerializer(lead).data)


def webhook_subscribed(event_type: str) -> bool:
    """Whether any active endpoint takes ``event_type``: callers skip the work otherwise."""
    return any(
        event_type in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
    )


def webhook_event_fan_out(
    *,
    event_type: str,
    lead_id: int,
    transition_id: int | None = None,
    event_key: str = "",
    details: dict | None = None,
) -> list[int]:
    """One pending delivery per active endpoint subscribed to the event; returns the ids of the
    deliveries of this event still pending. Running it twice for one event adds nothing (event
    ids derive from the lead or the transition, and one endpoint gets one delivery per event).
    The lead is sent as it is now; a lead deleted before this ran sends nothing. Events of upper
    apps (``lead.assigned``) name themselves by ``event_key`` and bring their ``details``, which
    the payload carries beside the lead (with ``details["at"]``, ISO 8601, as the time)."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id")
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    lead = (
        Lead.objects.select_related("company", "owner", "first_campaign", "last_campaign", "score")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        return []
    if event_type == EventType.LEAD_CREATED:
        event_id = uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{lead_id}")
        occurred_at = lead.created_at
        data = {"lead": _lead_data(lead)}
    elif event_type == EventType.LEAD_STAGE_CHANGED:
        transition = StageTransition.objects.filter(pk=transition_id, lead_id=lead_id).first()
        if transition is None:
            return []
        event_id = uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{transition.pk}")
        occurred_at = transition.at
        data = {
            "lead": _lead_data(lead),
            "transition": {
                "id": transition.pk,
                "from_stage": transition.from_stage,
                "to_stage": transition.to_stage,
                "at": _utc(transition.at),
                "by_user": transition.by_user_id,
                "by_rule": transition.by_rule,
                "reason": transition.reason,
            },
        }
    elif event_type == EventType.LEAD_ASSIGNED and event_key and details:
        event_id = uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{event_key}")
        occurred_at = datetime.fromisoformat(details["at"])
        data = {"lead": _lead_data(lead), "assignment": details}
    else:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    payload = _payload(event_id=event_id, event_type=event_type, occurred_at=occurred_at, data=data)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint, event_id=event_id, event_type=event_type, payload=payload
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    return list(
        WebhookDelivery.objects.filter(
            event_id=event_id, redelivery_of__isnull=True, status=Status.PENDING
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )


def webhook_test_create(*, endpoint_id: int) -> WebhookDelivery:
    """A test event for one endpoint (also an inactive one: test before switching it on)."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    event_id = uuid.uuid4()
    payload = _payload(
        event_id=event_id,
        event_type=TEST_EVENT,
        occurred_at=timezone.now(),
        data={"message": "This is a test event from LeadCRM.", "endpoint": endpoint.pk},
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=event_id, event_type=TEST_EVENT, payload=payload
    )


def webhook_redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id and payload."""
    original = WebhookDelivery.objects.get(pk=delivery_id)
    return WebhookDelivery.objects.create(
        endpoint_id=original.endpoint_id,
        event_id=original.event_id,
        event_type=original.event_type,
        payload=original.payload,
        redelivery_of_id=original.redelivery_of_id or original.pk,
    )


@dataclass(frozen=True)
class Outcome:
    succeeded: bool = False
    transient: bool = False  # worth another attempt: timeout, connection trouble, 5xx
    response_status: int | None = None
    excerpt: str = ""
    duration_ms: int | None = None
    error: str = ""


def retry_delay(attempt: int) -> float:
    """Seconds before the attempt after ``attempt``: exponential backoff with jitter (half fixed,
    half random, so endpoints that failed together do not all come back at once)."""
    ceiling = min(
        settings.WEBHOOKS_RETRY_MAX_SECONDS,
        settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _read_some(response: httpx.Response, *, deadline: float) -> bytes:
    """The start of the answer: enough to show in the log, never a large or dripping body."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= READ_LIMIT or time.monotonic() > deadline:
            break
    return data[:READ_LIMIT]


def _send(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> Outcome:
    """POST the signed payload to the endpoint, connecting to the address that was just checked
    (the host name is not looked up again by the HTTP client, so it cannot turn private
    in between); https is verified against the host name in the URL."""
    try:
        target = check_url(
            endpoint.url,
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE,
            require_https=settings.WEBHOOKS_REQUIRE_HTTPS,
        )
    except UrlRefused as exc:
        return Outcome(error=str(exc))
    except ResolutionFailed as exc:
        return Outcome(transient=True, error=str(exc))
    url = httpx.URL(endpoint.url)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-LeadCRM-Event": delivery.event_type,
        "X-LeadCRM-Event-Id": str(delivery.event_id),
        "X-LeadCRM-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(secret=endpoint.secret, timestamp=int(time.time()), body=body),
    }
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                url.copy_with(host=str(target.addresses[0])),
                content=body,
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            answer = _read_some(response, deadline=started + timeout)
    except httpx.TimeoutException:
        return Outcome(
            transient=True,
            duration_ms=round((time.monotonic() - started) * 1000),
            error=_("No answer within %(seconds)s s.") % {"seconds": timeout},
        )
    except httpx.HTTPError as exc:
        return Outcome(
            transient=True,
            duration_ms=round((time.monotonic() - started) * 1000),
            error=(_("Connection failed: %(error)s") % {"error": exc or type(exc).__name__})[:500],
        )
    duration_ms = round((time.monotonic() - started) * 1000)
    code = response.status_code
    excerpt = answer.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    common = {"response_status": code, "excerpt": excerpt, "duration_ms": duration_ms}
    if 200 <= code < 300:
        return Outcome(succeeded=True, **common)
    if code >= 500:
        return Outcome(
            transient=True, error=_("The endpoint answered %(code)s.") % {"code": code}, **common
        )
    return Outcome(
        error=_("The endpoint answered %(code)s; not retried.") % {"code": code}, **common
    )


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """Make the next attempt of a delivery if it is due; returns the seconds until the attempt
    after it when one is needed (a timeout, connection error or 5xx, attempts left), else None.

    Runs outside any transaction: the claim and the record are single UPDATEs, and the request
    happens between them with no row locked.
    """
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=[Status.PENDING, Status.RETRYING])
        .filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now + RETRY_SLACK))
        .update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_retry_at=None,
        )
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event_type != TEST_EVENT:
        outcome = Outcome(error=_("The endpoint is inactive."))
    else:
        outcome = _send(endpoint=endpoint, delivery=delivery)

    record = {
        "response_status": outcome.response_status,
        "response_excerpt": outcome.excerpt,
        "duration_ms": outcome.duration_ms,
        "error": outcome.error,
    }
    retry_in = None
    if outcome.succeeded:
        record.update(status=Status.SUCCEEDED, delivered_at=timezone.now())
    elif outcome.transient and delivery.attempts < settings.WEBHOOKS_MAX_ATTEMPTS:
        retry_in = retry_delay(delivery.attempts)
        record.update(
            status=Status.RETRYING, next_retry_at=timezone.now() + timedelta(seconds=retry_in)
        )
    else:
        if outcome.transient:
            record["error"] = (
                outcome.error
                + " "
                + _("Gave up after %(count)d attempts.") % {"count": delivery.attempts}
            )[:500]
        record.update(status=Status.FAILED)
    WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(**record)
    return retry_in


def webhook_deliveries_resume(*, now: datetime | None = None) -> list[int]:
    """Deliveries whose task was lost (broker restart, a worker stopped mid-attempt): the ids to
    enqueue again. The claim in webhook_delivery_attempt makes a duplicate harmless."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(
        status=Status.SENDING, last_attempt_at__lt=now - STUCK_AFTER
    ).update(
        status=Status.RETRYING,
        next_retry_at=now,
        error=_("The attempt was interrupted; it is retried."),
    )
    late = now - LATE_AFTER
    return list(
        WebhookDelivery.objects.filter(
            Q(status=Status.PENDING, created_at__lt=late)
            | Q(status=Status.RETRYING, next_retry_at__lt=late)
        )
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )

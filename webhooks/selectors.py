"""Reads for the webhook pages (admins only; the views check the role)."""

from django.db.models import OuterRef, QuerySet, Subquery

from webhooks.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 10


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Endpoints with the status and time of their latest delivery, in one query."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return WebhookEndpoint.objects.annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_delivery_at=Subquery(latest.values("created_at")[:1]),
    ).order_by("url", "id")


def delivery_list() -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first, without the payloads and answers (the detail shows them)."""
    return (
        WebhookDelivery.objects.select_related("endpoint")
        .defer("payload", "response_excerpt", "endpoint__secret")
        .order_by("-created_at", "-id")
    )


def endpoint_recent_deliveries(*, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(delivery_list().filter(endpoint=endpoint)[:RECENT_DELIVERIES])

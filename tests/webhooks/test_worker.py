"""End to end through the real Celery worker: a new lead reaches a receiver that fails first.

The worker process runs with WEBHOOKS_ALLOW_PRIVATE=1, WEBHOOKS_REQUIRE_HTTPS=0 and a retry base
of 1 s (tests/conftest.py), so the retry comes within seconds.
"""

import hashlib
import hmac
import json
import time

import pytest
from django.db import transaction

from leads import services as lead_services
from leads.lifecycle import Stage
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_status(delivery_filter: dict, status: str, timeout: float = 30.0) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.filter(**delivery_filter).first()
        if delivery is not None and delivery.status == status:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"no {status} delivery: {list(WebhookDelivery.objects.values())}")


def test_a_new_lead_is_delivered_after_a_5xx_was_retried(celery_worker_process, receiver, marketer):
    receiver.statuses = [503]
    endpoint = services.webhook_endpoint_create(
        url=receiver.url, events=["lead.created", "lead.stage_changed"], by_user=None
    )

    with transaction.atomic():
        lead = lead_services.lead_create(
            created_by=marketer, email="worker@example.com", first_name="Wanda"
        )

    delivery = wait_for_status({"event_type": "lead.created"}, "succeeded")
    assert (delivery.attempts, delivery.response_status, delivery.error) == (2, 200, "")
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    body = json.loads(second.body)
    assert (body["type"], body["data"]["lead"]["id"], body["data"]["lead"]["first_name"]) == (
        "lead.created",
        lead.pk,
        "Wanda",
    )
    timestamp, signature = (
        part.split("=", 1)[1] for part in second.headers["X-LeadCRM-Signature"].split(",")
    )
    assert (
        signature
        == hmac.new(
            endpoint.secret.encode(), f"{timestamp}.".encode() + second.body, hashlib.sha256
        ).hexdigest()
    )


def test_a_stage_change_is_delivered_once_and_a_4xx_is_not_retried(
    celery_worker_process, receiver, marketer
):
    services.webhook_endpoint_create(url=receiver.url, events=["lead.stage_changed"], by_user=None)
    lead = lead_services.lead_create(created_by=marketer, email="stage@example.com")
    receiver.statuses = [422]

    lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer)

    delivery = wait_for_status({"event_type": "lead.stage_changed"}, "failed")
    assert (delivery.attempts, delivery.response_status) == (1, 422)
    time.sleep(2.5)  # longer than a retry would wait
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body)["data"]["transition"]["to_stage"] == "mql"
    assert WebhookDelivery.objects.count() == 1

"""Which deliveries a lead event makes, with what payload; receivers only enqueue after commit."""

import uuid

import pytest

from leads import services as lead_services
from leads.lifecycle import Stage
from webhooks import receivers, services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def endpoint(url: str, events: list[str], is_active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=url, events=events, is_active=is_active, secret="whsec_test"
    )


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """The fan-out tasks the receivers enqueue (no worker in these tests)."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        receivers.tasks.webhook_event_fan_out, "delay", lambda *args: calls.append(args)
    )
    return calls


def test_it_enqueues_a_fan_out_after_the_lead_is_committed(
    marketer, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_services.lead_create(created_by=marketer, email="new@example.com")
        assert queued == []  # nothing before the commit

    assert queued == [("lead.created", lead.pk)]


def test_it_enqueues_a_fan_out_for_a_stage_change(
    marketer, queued, django_capture_on_commit_callbacks
):
    lead = lead_services.lead_create(created_by=marketer, email="moving@example.com")
    queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        transition = lead_services.lead_transition(
            lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer
        )

    assert queued == [("lead.stage_changed", lead.pk, transition.pk)]


def test_a_new_lead_goes_to_every_active_endpoint_subscribed_to_it(marketer):
    both = endpoint("https://a.example/hook", ["lead.created", "lead.stage_changed"])
    created_only = endpoint("https://b.example/hook", ["lead.created"])
    endpoint("https://c.example/hook", ["lead.stage_changed"])
    endpoint("https://d.example/hook", ["lead.created"], is_active=False)
    lead = lead_services.lead_create(
        created_by=marketer,
        email="Ada@Example.com",
        first_name="Ada",
        last_name="Lovelace",
        company_name="Engines Ltd",
    )

    ids = services.webhook_event_fan_out(event_type="lead.created", lead_id=lead.pk)

    deliveries = list(WebhookDelivery.objects.filter(pk__in=ids).order_by("endpoint_id"))
    assert [d.endpoint_id for d in deliveries] == [both.pk, created_only.pk]
    assert {d.status for d in deliveries} == {"pending"}
    payload = deliveries[0].payload
    assert payload == deliveries[1].payload
    assert payload["id"] == str(uuid.uuid5(services.EVENT_NAMESPACE, f"lead.created:{lead.pk}"))
    assert payload["type"] == "lead.created"
    assert payload["occurred_at"] == lead.created_at.astimezone(
        tz=__import__("datetime").UTC
    ).isoformat().replace("+00:00", "Z")
    assert payload["data"]["lead"]["id"] == lead.pk
    assert payload["data"]["lead"]["email"] == "Ada@Example.com"
    assert payload["data"]["lead"]["full_name"] == "Ada Lovelace"
    assert payload["data"]["lead"]["company"]["name"] == "Engines Ltd"
    assert payload["data"]["lead"]["stage"] == "unqualified"


def test_running_the_fan_out_twice_delivers_once(marketer):
    endpoint("https://a.example/hook", ["lead.created"])
    lead = lead_services.lead_create(created_by=marketer, email="twice@example.com")

    first = services.webhook_event_fan_out(event_type="lead.created", lead_id=lead.pk)
    second = services.webhook_event_fan_out(event_type="lead.created", lead_id=lead.pk)

    assert first == second
    assert WebhookDelivery.objects.count() == 1


def test_a_stage_change_carries_the_transition(marketer):
    endpoint("https://a.example/hook", ["lead.stage_changed"])
    lead = lead_services.lead_create(created_by=marketer, email="stage@example.com")
    transition = lead_services.lead_transition(
        lead_id=lead.pk, to_stage=Stage.NURTURE, by_user=marketer, reason="No budget this year"
    )

    [delivery_id] = services.webhook_event_fan_out(
        event_type="lead.stage_changed", lead_id=lead.pk, transition_id=transition.pk
    )

    payload = WebhookDelivery.objects.get(pk=delivery_id).payload
    assert payload["type"] == "lead.stage_changed"
    assert payload["data"]["lead"]["stage"] == "nurture"
    assert payload["data"]["transition"] == {
        "id": transition.pk,
        "from_stage": "unqualified",
        "to_stage": "nurture",
        "at": payload["occurred_at"],
        "by_user": marketer.pk,
        "by_rule": "",
        "reason": "No budget this year",
    }


def test_nothing_is_sent_for_a_lead_deleted_before_the_fan_out(marketer):
    endpoint("https://a.example/hook", ["lead.created"])
    lead = lead_services.lead_create(created_by=marketer, email="gone@example.com")
    lead_services.lead_delete(lead_id=lead.pk, by_user=None)

    assert services.webhook_event_fan_out(event_type="lead.created", lead_id=lead.pk) == []
    assert not WebhookDelivery.objects.exists()


def test_a_redelivery_sends_the_same_event_again():
    hook = endpoint("https://a.example/hook", ["lead.created"])
    original = services.webhook_test_create(endpoint_id=hook.pk)

    again = services.webhook_redeliver(delivery_id=original.pk)

    assert again.pk != original.pk
    assert (again.event_id, again.payload, again.redelivery_of) == (
        original.event_id,
        original.payload,
        original,
    )
    assert (again.status, again.attempts) == ("pending", 0)


def test_the_sweep_resumes_lost_and_interrupted_deliveries():
    from datetime import timedelta

    from django.utils import timezone

    hook = endpoint("https://a.example/hook", ["lead.created"])
    now = timezone.now()

    def delivery(**fields) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            endpoint=hook, event_id=uuid.uuid4(), event_type="webhook.test", payload={}, **fields
        )

    lost_pending = delivery(created_at=now - timedelta(minutes=5))
    fresh_pending = delivery(created_at=now - timedelta(seconds=10))
    lost_retry = delivery(status="retrying", next_retry_at=now - timedelta(minutes=5))
    waiting_retry = delivery(status="retrying", next_retry_at=now + timedelta(minutes=5))
    stuck = delivery(status="sending", attempts=1, last_attempt_at=now - timedelta(minutes=10))
    busy = delivery(status="sending", attempts=1, last_attempt_at=now - timedelta(seconds=5))
    delivery(status="succeeded", created_at=now - timedelta(hours=1))

    ids = services.webhook_deliveries_resume(now=now)

    assert ids == [lost_pending.pk, lost_retry.pk]
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.next_retry_at) == ("retrying", now)
    assert busy.status == "sending"
    assert fresh_pending.pk not in ids
    assert waiting_retry.pk not in ids

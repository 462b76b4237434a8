"""The webhook pages: admins only; register, reveal the secret, test, redeliver, the log."""

import uuid

import pytest
from django.urls import reverse

from webhooks import services, views
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def hook(url: str = "https://hooks.example/leadcrm", events=("lead.created",)) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, events=list(events), secret="whsec_s3cr3t")


def delivery(endpoint: WebhookEndpoint, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type=fields.pop("event_type", "lead.created"),
        payload={"type": "lead.created"},
        **fields,
    )


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(views.tasks.webhook_deliver, "delay", calls.append)
    return calls


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def urls_for(endpoint: WebhookEndpoint, sent: WebhookDelivery) -> list[tuple[str, str]]:
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("post", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[endpoint.pk])),
        ("get", reverse("webhooks:edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:test", args=[endpoint.pk])),
        ("post", reverse("webhooks:rotate-secret", args=[endpoint.pk])),
        ("post", reverse("webhooks:delete", args=[endpoint.pk])),
        ("get", reverse("webhooks:deliveries")),
        ("get", reverse("webhooks:delivery", args=[sent.pk])),
        ("post", reverse("webhooks:redeliver", args=[sent.pk])),
    ]


@pytest.mark.parametrize("role", ["marketer", "sales_rep", "sales_manager", "no_role_user"])
def test_only_admins_reach_the_webhook_pages(client, request, role, enqueued):
    client.force_login(request.getfixturevalue(role))
    endpoint = hook()
    sent = delivery(endpoint)

    statuses = {
        url: getattr(client, method)(url).status_code for method, url in urls_for(endpoint, sent)
    }

    assert set(statuses.values()) == {403}
    endpoint.refresh_from_db()
    assert endpoint.secret == "whsec_s3cr3t"
    assert WebhookDelivery.objects.count() == 1
    assert enqueued == []


def test_anonymous_visitors_go_to_the_login_page(client):
    endpoint = hook()
    sent = delivery(endpoint)

    for method, url in urls_for(endpoint, sent):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/")


def test_an_admin_registers_a_webhook_and_can_reveal_its_secret(admin_client, admin_user, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True

    response = admin_client.post(
        reverse("webhooks:create"),
        {
            "url": "https://93.184.215.14/hooks/leadcrm",
            "description": "ERP sync",
            "events": ["lead.created", "lead.stage_changed"],
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[endpoint.pk])
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.is_active) == (
        "https://93.184.215.14/hooks/leadcrm",
        ["lead.created", "lead.stage_changed"],
        "ERP sync",
        True,
    )
    assert endpoint.created_by == admin_user
    page = admin_client.get(response["Location"]).content.decode()
    assert "Webhook registered. Copy its signing secret into the receiving system." in page
    assert "Show signing secret" in page
    assert endpoint.secret in page
    assert len(endpoint.secret) == len("whsec_") + 43


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"url": "http://10.0.0.8/hook", "events": ["lead.created"]},
            "url",
            "10.0.0.8 resolves to 10.0.0.8, a private address; webhooks go to public addresses "
            "only.",
        ),
        ({"url": "https://93.184.215.14/", "events": []}, "events", "Choose at least one event."),
        ({"url": "https://93.184.215.14/", "events": ["lead.deleted"]}, "events", "lead.deleted"),
        ({"url": "", "events": ["lead.created"]}, "url", "This field is required."),
    ],
)
def test_a_bad_registration_names_the_field_and_saves_nothing(
    admin_client, settings, data, field, message
):
    settings.WEBHOOKS_REQUIRE_HTTPS = False

    response = admin_client.post(reverse("webhooks:create"), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_edits_and_deactivates_a_webhook(admin_client):
    endpoint = hook()

    response = admin_client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": endpoint.url, "events": ["lead.stage_changed"], "description": "Paused"},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description, endpoint.is_active) == (
        ["lead.stage_changed"],
        "Paused",
        False,
    )


def test_rotating_the_secret_replaces_it(admin_client):
    endpoint = hook()

    admin_client.post(reverse("webhooks:rotate-secret", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert endpoint.secret != "whsec_s3cr3t"
    assert endpoint.secret.startswith("whsec_")


def test_send_test_event_queues_a_delivery_shown_on_the_page(
    admin_client, enqueued, django_capture_on_commit_callbacks
):
    endpoint = hook()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:test", args=[endpoint.pk]), follow=True)

    sent = WebhookDelivery.objects.get()
    assert (sent.endpoint, sent.event_type, sent.status) == (endpoint, "webhook.test", "pending")
    assert enqueued == [sent.pk]
    page = response.content.decode()
    assert "Test event queued; its delivery appears below." in page
    assert "webhook.test" in page


def test_redeliver_queues_the_same_event_again(
    admin_client, enqueued, django_capture_on_commit_callbacks
):
    original = delivery(hook(), status="failed", attempts=8, error="The endpoint answered 500.")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:redeliver", args=[original.pk]))

    again = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert response["Location"] == reverse("webhooks:delivery", args=[again.pk])
    assert (again.event_id, again.redelivery_of, again.status) == (
        original.event_id,
        original,
        "pending",
    )
    assert enqueued == [again.pk]


def test_deleting_a_webhook_deletes_its_log(admin_client):
    endpoint = hook()
    delivery(endpoint)

    response = admin_client.post(reverse("webhooks:delete", args=[endpoint.pk]))

    assert response["Location"] == reverse("webhooks:list")
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_log_filters_by_status_endpoint_and_event(admin_client):
    erp, crm = hook("https://erp.example/hook"), hook("https://crm.example/hook")
    delivery(erp, status="failed", error="The endpoint answered 500.")
    delivery(erp, status="succeeded", response_status=200)
    delivery(crm, status="failed", event_type="lead.stage_changed")

    failed = admin_client.get(reverse("webhooks:deliveries"), {"status": "failed"})
    erp_failed = admin_client.get(
        reverse("webhooks:deliveries"), {"status": "failed", "endpoint": erp.pk}
    )
    stage = admin_client.get(reverse("webhooks:deliveries"), {"event_type": "lead.stage_changed"})

    assert [d.endpoint.url for d in failed.context["deliveries"]] == [
        "https://crm.example/hook",
        "https://erp.example/hook",
    ]
    assert [d.error for d in erp_failed.context["deliveries"]] == ["The endpoint answered 500."]
    assert [d.endpoint_id for d in stage.context["deliveries"]] == [crm.pk]
    assert "2 deliveries" in failed.content.decode()


def test_a_bad_log_filter_is_reported(admin_client):
    response = admin_client.get(reverse("webhooks:deliveries"), {"status": "lost"})

    assert response.status_code == 400
    assert "These filters are not valid" in response.content.decode()
    assert list(response.context["filter_form"].errors) == ["status"]


@pytest.mark.parametrize("count", [3, 40])
def test_the_log_page_costs_the_same_queries_however_many_deliveries(
    admin_client, django_assert_num_queries, count
):
    endpoints = [hook(f"https://hook{i}.example/") for i in range(4)]
    for i in range(count):
        delivery(endpoints[i % 4], status="failed", response_status=500)

    # session, user, roles and permissions; the endpoint choices of the filter;
    # the count; one page of deliveries with their endpoints
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("webhooks:deliveries"))

    assert response.status_code == 200
    assert len(response.context["deliveries"]) == count


@pytest.mark.parametrize("count", [1, 12])
def test_the_webhook_list_costs_the_same_queries_however_many_endpoints(
    admin_client, django_assert_num_queries, count
):
    for i in range(count):
        delivery(hook(f"https://hook{i}.example/"), status="succeeded")

    # session, user, roles and permissions; endpoints with their latest delivery
    with django_assert_num_queries(4):
        response = admin_client.get(reverse("webhooks:list"))

    assert response.content.decode().count("Succeeded") == count


def test_a_delivery_page_shows_the_payload_and_the_answer(admin_client):
    sent = delivery(
        hook(),
        status="succeeded",
        attempts=2,
        response_status=202,
        response_excerpt="queued as 4711",
        duration_ms=87,
    )

    page = admin_client.get(reverse("webhooks:delivery", args=[sent.pk])).content.decode()

    assert "queued as 4711" in page
    assert "&quot;type&quot;: &quot;lead.created&quot;" in page
    assert "87 ms" in page
    assert str(sent.event_id) in page


def test_the_service_checks_the_url_even_without_the_form(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    with pytest.raises(services.ValidationError):
        services.webhook_endpoint_create(
            url="http://127.0.0.1/", events=["lead.created"], by_user=None
        )

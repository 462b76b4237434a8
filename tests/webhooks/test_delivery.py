"""Sending webhooks: signature, retries with backoff, what is and is not retried, SSRF refusals."""

import hashlib
import hmac
import json
import socket
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def endpoint_for(url: str, events=("lead.created",)) -> WebhookEndpoint:
    return services.webhook_endpoint_create(url=url, events=list(events), by_user=None)


def make_due(delivery: WebhookDelivery) -> None:
    """The backoff has passed (instead of sleeping through it)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_retry_at=timezone.now() - timedelta(seconds=1)
    )


def test_it_signs_the_body_with_the_endpoint_secret_and_a_timestamp(receiver):
    endpoint = endpoint_for(receiver.url)
    delivery = services.webhook_test_create(endpoint_id=endpoint.pk)

    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None

    [request] = receiver.requests
    header = request.headers["X-LeadCRM-Signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    assert set(parts) == {"t", "v1"}
    expected = hmac.new(
        endpoint.secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - timezone.now().timestamp()) < 30
    assert endpoint.secret.startswith("whsec_")
    assert request.path == "/hooks/leadcrm"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-LeadCRM-Event"] == "webhook.test"
    body = json.loads(request.body)
    assert body["type"] == "webhook.test"
    assert body["id"] == request.headers["X-LeadCRM-Event-Id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "succeeded",
        1,
        200,
    )
    assert delivery.response_excerpt == "answer 200"
    assert delivery.duration_ms is not None
    assert delivery.delivered_at is not None


def test_a_signature_made_with_another_secret_does_not_verify(receiver):
    endpoint = endpoint_for(receiver.url)
    delivery = services.webhook_test_create(endpoint_id=endpoint.pk)
    services.webhook_delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    timestamp, signature = (
        p.split("=", 1)[1] for p in request.headers["X-LeadCRM-Signature"].split(",")
    )
    forged = hmac.new(b"whsec_guess", f"{timestamp}.".encode() + request.body, hashlib.sha256)
    tampered = hmac.new(
        endpoint.secret.encode(), f"{timestamp}.".encode() + request.body + b" ", hashlib.sha256
    )

    assert signature not in {forged.hexdigest(), tampered.hexdigest()}


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(receiver, settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500, 503]
    delivery = services.webhook_test_create(endpoint_id=endpoint_for(receiver.url).pk)

    first = services.webhook_delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert 15 <= first <= 30
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("retrying", 1, 500)
    assert delivery.error == "The endpoint answered 500."
    assert timedelta(seconds=14) < delivery.next_retry_at - timezone.now() <= timedelta(seconds=30)
    # Not due yet: a duplicate task sends nothing.
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1

    make_due(delivery)
    second = services.webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert 30 <= second <= 60
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("retrying", 2, 503)

    make_due(delivery)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    assert (delivery.error, delivery.next_retry_at) == ("", None)
    # The same event each time, signed afresh.
    assert len({r.body for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422, 301])
def test_a_client_error_or_redirect_is_not_retried(receiver, status):
    receiver.statuses = [status]
    delivery = services.webhook_test_create(endpoint_id=endpoint_for(receiver.url).pk)

    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "failed",
        1,
        status,
    )
    assert delivery.error == f"The endpoint answered {status}; not retried."
    assert delivery.next_retry_at is None


def test_a_timeout_is_retried(receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    receiver.delay = 2
    delivery = services.webhook_test_create(endpoint_id=endpoint_for(receiver.url).pk)

    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is not None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("retrying", None)
    assert delivery.error == "No answer within 1 s."
    assert 900 <= delivery.duration_ms < 2000


def test_a_refused_connection_is_retried(allow_local):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nobody listens there
    delivery = services.webhook_test_create(
        endpoint_id=endpoint_for(f"http://127.0.0.1:{port}/").pk
    )

    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is not None

    delivery.refresh_from_db()
    assert delivery.status == "retrying"
    assert delivery.error.startswith("Connection failed:")


def test_it_gives_up_after_the_last_attempt(receiver, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.statuses = [502, 502, 200]
    delivery = services.webhook_test_create(endpoint_id=endpoint_for(receiver.url).pk)

    services.webhook_delivery_attempt(delivery_id=delivery.pk)
    make_due(delivery)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.error == "The endpoint answered 502. Gave up after 2 attempts."
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 15, 30), (2, 30, 60), (3, 60, 120), (6, 480, 960), (7, 900, 1800), (12, 900, 1800)],
)
def test_the_backoff_doubles_with_jitter_up_to_the_cap(settings, attempt, low, high):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 1800

    delays = [services.retry_delay(attempt) for _ in range(200)]

    assert low <= min(delays)
    assert max(delays) <= high
    assert len(set(delays)) > 100  # jittered, not one fixed value


def test_an_inactive_endpoint_gets_no_events_but_test_events(receiver):
    endpoint = endpoint_for(receiver.url)
    event = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event_type="lead.created", payload={"id": "x"}
    )
    test = services.webhook_test_create(endpoint_id=endpoint.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    services.webhook_delivery_attempt(delivery_id=event.pk)
    services.webhook_delivery_attempt(delivery_id=test.pk)

    event.refresh_from_db()
    test.refresh_from_db()
    assert (event.status, event.error) == ("failed", "The endpoint is inactive.")
    assert test.status == "succeeded"
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["webhook.test"]


# --- SSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1 resolves to 127.0.0.1, a loopback address"),
        ("http://10.20.30.40/hook", "10.20.30.40 resolves to 10.20.30.40, a private address"),
        ("http://192.168.1.10:8080/", "192.168.1.10 resolves to 192.168.1.10, a private address"),
        ("http://[::1]/hook", "::1 resolves to ::1, a loopback address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 resolves to 169.254.169.254, a link-local address",
        ),
        ("http://224.0.0.1/", "224.0.0.1 resolves to 224.0.0.1, a multicast address"),
        ("http://0.0.0.0/", "0.0.0.0 resolves to 0.0.0.0, a private address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 resolves to ::ffff:7f00:1, a loopback"),
        ("http://localhost:8000/hook", "localhost resolves to"),
    ],
)
def test_it_refuses_urls_that_reach_private_addresses(settings, url, message):
    settings.WEBHOOKS_REQUIRE_HTTPS = False

    with pytest.raises(ValidationError) as error:
        endpoint_for(url)

    assert set(error.value.message_dict) == {"url"}
    assert message in error.value.message_dict["url"][0]
    assert "public addresses only" in error.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_a_name_with_any_private_address(settings, monkeypatch):
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    monkeypatch.setattr(
        socket, "getaddrinfo", fake_dns({"mixed.example": ["93.184.215.14", "10.0.0.5"]})
    )

    with pytest.raises(ValidationError, match=r"mixed\.example resolves to 10\.0\.0\.5"):
        endpoint_for("http://mixed.example/hook")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "Use an https:// URL."),
        ("ftp://93.184.215.14/hook", "Enter a valid URL."),
        ("https://user:pw@93.184.215.14/hook", "Put no user name or password in the URL."),
        ("not a url", "Enter a valid URL."),
    ],
)
def test_it_requires_a_plain_https_url_in_production(settings, url, message):
    settings.WEBHOOKS_REQUIRE_HTTPS = True

    with pytest.raises(ValidationError) as error:
        endpoint_for(url)

    assert error.value.message_dict == {"url": [message]}


def test_it_accepts_a_public_https_url(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True

    endpoint = endpoint_for("https://93.184.215.14/hooks/leadcrm", events=["lead.stage_changed"])

    assert (endpoint.url, endpoint.events, endpoint.is_active) == (
        "https://93.184.215.14/hooks/leadcrm",
        ["lead.stage_changed"],
        True,
    )


def fake_dns(table: dict[str, list[str]]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


def test_it_checks_the_address_again_when_sending_dns_rebinding(receiver, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    dns = {"hooks.example": ["93.184.215.14"]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(dns))
    endpoint = endpoint_for(f"http://hooks.example:{receiver.port}/hooks/leadcrm")
    delivery = services.webhook_test_create(endpoint_id=endpoint.pk)
    dns["hooks.example"] = ["127.0.0.1"]  # the name now points inside

    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.error == (
        "hooks.example resolves to 127.0.0.1, a loopback address; webhooks go to public "
        "addresses only."
    )
    assert receiver.requests == []


def test_it_connects_to_the_checked_address_and_keeps_the_host_name(receiver, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"hooks.example": ["127.0.0.1"]}))
    endpoint = endpoint_for(f"http://hooks.example:{receiver.port}/hooks/leadcrm")
    delivery = services.webhook_test_create(endpoint_id=endpoint.pk)

    services.webhook_delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.example:{receiver.port}"


def test_the_verification_snippet_in_the_api_docs_accepts_a_real_delivery(receiver, settings):
    docs = (settings.BASE_DIR / "docs" / "api.md").read_text()
    snippet = docs.split("### Verifying the signature", 1)[1].split("```python\n", 1)[1]
    namespace: dict = {}
    exec(snippet.split("```", 1)[0], namespace)
    verify = namespace["verify"]
    endpoint = endpoint_for(receiver.url)
    services.webhook_delivery_attempt(
        delivery_id=services.webhook_test_create(endpoint_id=endpoint.pk).pk
    )
    [request] = receiver.requests
    header = request.headers["X-LeadCRM-Signature"]

    assert verify(endpoint.secret, header, request.body) is True
    assert verify(endpoint.secret, header, request.body.replace(b"test", b"tost")) is False
    assert verify("whsec_other", header, request.body) is False
    assert verify(endpoint.secret, "t=1,v1=" + header.split("v1=")[1], request.body) is False
    assert verify(endpoint.secret, "garbage", request.body) is False

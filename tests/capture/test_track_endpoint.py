"""/t/e: public, validated field by field, rate-limited per address, buffered without touching
the database; /t/lc.js: the tracking script with long cache headers."""

import json

import pytest
from django.urls import reverse

from capture.buffer import get_buffer

pytestmark = pytest.mark.django_db

TRACK_URL = "/t/e"
VISITOR = "3f2a9c1e7b6d4a5f8e0c1b2a3d4e5f60"


def page_view(**fields) -> dict:
    return {"visitor_id": VISITOR, "url": "https://www.example.com/", **fields}


def send(client, body, content_type="text/plain;charset=UTF-8", **extra):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return client.post(TRACK_URL, data=body, content_type=content_type, **extra)


def buffered() -> list[dict]:
    buffer = get_buffer()
    return [json.loads(record) for record in buffer.client.lrange(buffer.queue, 0, -1)]


def test_it_buffers_a_page_view_and_answers_204_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = send(
            client,
            page_view(
                url="https://www.example.com/pricing?utm_source=newsletter",
                referrer="https://www.google.com/",
                title="Preise – Beispiel GmbH",
                utm_source="newsletter",
                utm_campaign="spring-webinar",
            ),
        )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    [record] = buffered()
    assert {name: record[name] for name in record if name not in ("key", "at")} == {
        "visitor_id": VISITOR,
        "url": "https://www.example.com/pricing?utm_source=newsletter",
        "referrer": "https://www.google.com/",
        "title": "Preise – Beispiel GmbH",
        "utm_source": "newsletter",
        "utm_campaign": "spring-webinar",
    }
    assert len(record["key"]) == 32


def test_it_takes_json_sent_as_application_json_too(client):
    response = send(client, page_view(), content_type="application/json")

    assert response.status_code == 204
    assert len(buffered()) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"visitor_id": "short"}, "visitor_id"),
        ({"visitor_id": "a" * 65}, "visitor_id"),
        ({"visitor_id": "spaces are not allowed in it"}, "visitor_id"),
        ({"visitor_id": 1234567890123456789}, "visitor_id"),
        ({"url": ""}, "url"),
        ({"url": "ftp://files.example.com/a"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://www.example.com/" + "a" * 2000}, "url"),
        ({"url": 42}, "url"),
        ({"referrer": "android-app://com.example"}, "referrer"),
        ({"referrer": "https://x.example/" + "r" * 2000}, "referrer"),
        ({"title": "t" * 301}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"utm_campaign": "c" * 101}, "utm_campaign"),
        ({"utm_source": None}, "utm_source"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_it_refuses_a_bad_field_naming_it_and_buffers_nothing(client, fields, field):
    response = send(client, page_view(**fields))

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert buffered() == []


def test_it_requires_the_visitor_id_and_url(client):
    response = send(client, {})

    assert response.status_code == 400
    assert sorted(response.json()) == ["url", "visitor_id"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"a string"', "\xff\xfe"])
def test_it_refuses_a_body_that_is_not_a_json_object(client, body):
    response = send(client, body)

    assert response.status_code == 400
    assert response.json() == {"body": ["Send a JSON object."]}
    assert buffered() == []


def test_it_refuses_an_oversized_body_and_other_content_types(client):
    too_big = send(client, page_view(title="x" * 9000))
    form = client.post(TRACK_URL, data={"visitor_id": VISITOR})

    assert too_big.status_code == 413
    assert form.status_code == 415
    assert buffered() == []


def test_it_answers_the_cors_preflight_and_refuses_get(client):
    preflight = client.options(
        TRACK_URL,
        HTTP_ORIGIN="https://www.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    get = client.get(TRACK_URL)

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "POST"
    assert get.status_code == 405


def test_it_needs_no_login_and_no_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert send(strict, page_view()).status_code == 204


def test_it_answers_429_when_one_address_floods(client, settings):
    settings.LEADCRM_TRACK_RATE = (3, 60)

    statuses = [send(client, page_view(), REMOTE_ADDR="203.0.113.9").status_code for _ in range(5)]
    refused = send(client, page_view(), REMOTE_ADDR="203.0.113.9")
    other_address = send(client, page_view(), REMOTE_ADDR="198.51.100.7")

    assert statuses == [204, 204, 204, 429, 429]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other_address.status_code == 204
    assert len(buffered()) == 4


def test_it_serves_the_script_with_long_cache_headers_for_its_version(client):
    plain = client.get("/t/lc.js")
    version = plain["ETag"].strip('"')
    versioned = client.get(f"/t/lc.js?v={version}")

    assert plain.status_code == 200
    assert plain["Content-Type"] == "text/javascript; charset=utf-8"
    assert plain["Cache-Control"] == "public, max-age=3600"
    assert versioned["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(versioned.content) < 3 * 1024
    assert b"sendBeacon" in versioned.content
    assert reverse("track:script") == "/t/lc.js"


def test_the_beacon_answer_carries_no_page_policy_but_pages_keep_theirs(client):
    beacon = send(client, page_view())
    landing = client.get("/login/")

    assert beacon.status_code == 204
    assert "Content-Security-Policy" not in beacon
    assert "script-src 'self'" in landing["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/x",
        "http://[::1]:8080/a?b=c",
        "https://xn--mller-kva.example/p#top",
        "https://shop.example.com",
    ],
)
def test_it_takes_the_addresses_browsers_send(client, url):
    assert send(client, page_view(url=url, referrer=url)).status_code == 204


@pytest.mark.parametrize(
    "url", ["https://exa mple.com/", "https://-bad.example/", "http://", "https://a.example/ x"]
)
def test_it_refuses_what_is_no_web_address(client, url):
    response = send(client, page_view(url=url))

    assert response.status_code == 400
    assert response.json() == {"url": ["Enter a valid http or https URL."]}

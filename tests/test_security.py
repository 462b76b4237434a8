"""Brute-force lockout, Content-Security-Policy and Permissions-Policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from leadcrm.settings import _rate

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
PASSWORD = "correct-horse-battery"


def log_in(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_it_locks_a_user_name_out_after_five_wrong_passwords(client, marketer):
    failures = [log_in(client, "marketer", "wrong").status_code for _ in range(5)]
    locked = log_in(client, "marketer", PASSWORD)

    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"Try again in 15 minutes" in locked.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("proxies", "other_client_locked_out"),
    [(0, True), (1, False)],  # without a trusted proxy, X-Forwarded-For is the client's own word
)
def test_it_locks_out_the_real_client_behind_a_reverse_proxy(
    client, marketer, settings, proxies, other_client_locked_out
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    for _ in range(5):
        client.post(
            "/login/",
            {"username": "marketer", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

    other = client.post(
        "/login/",
        {"username": "marketer", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )

    assert (other.status_code == 429) is other_client_locked_out


def test_it_still_lets_other_users_log_in_from_the_same_address(client, marketer, sales_rep):
    for _ in range(5):
        log_in(client, "marketer", "wrong")

    other = log_in(client, "rep", PASSWORD)

    assert other.status_code == 302
    assert client.session["_auth_user_id"] == str(sales_rep.pk)


def test_it_forgets_failures_after_a_correct_password(client, marketer):
    for _ in range(4):
        log_in(client, "marketer", "wrong")
    assert log_in(client, "marketer", PASSWORD).status_code == 302
    client.logout()

    again = [log_in(client, "marketer", "wrong").status_code for _ in range(4)]

    assert again == [200, 200, 200, 200]


def test_it_reads_the_failure_limit_from_the_settings(client, marketer, settings):
    settings.AXES_FAILURE_LIMIT = 2

    statuses = [log_in(client, "marketer", "wrong").status_code for _ in range(2)]

    assert statuses == [200, 429]
    assert log_in(client, "marketer", PASSWORD).status_code == 429


def test_it_sends_a_strict_content_security_policy_on_pages(client):
    response = client.get("/login/")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_it_allows_inline_styles_for_the_swagger_ui_only(client, marketer):
    client.force_login(marketer)

    docs = client.get("/api/docs/")
    leads = client.get("/leads/")

    assert "style-src 'self' 'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "script-src 'self';" in docs["Content-Security-Policy"] + ";"
    assert "unsafe-inline" not in leads["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/login/", "/api/v1/leads/", "/healthz"])
def test_it_switches_off_browser_features_it_does_not_use(client, path):
    response = client.get(path)

    policy = response["Permissions-Policy"]
    assert "camera=()" in policy
    assert "geolocation=()" in policy
    assert "microphone=()" in policy
    assert "payment=()" in policy


@pytest.mark.parametrize(
    "pattern",
    [
        r"<script(?![^>]*\bsrc=)[^>]*>",  # inline script
        r"<style\b",  # style element
        r"\sstyle=",  # style attribute
        r"\son[a-z]+=",  # event handler attribute
        r"\shx-on",  # htmx inline handler (needs eval)
        r"javascript:",
    ],
)
def test_it_has_no_inline_code_the_policy_would_block(pattern):
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(pattern, path.read_text(), flags=re.IGNORECASE)
    ]

    assert offenders == []


def test_it_refuses_a_malformed_throttle_rate(monkeypatch):
    monkeypatch.setenv("API_THROTTLE_USER", "100/fortnight")

    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_USER"):
        _rate("API_THROTTLE_USER", "1200/minute")

    monkeypatch.setenv("API_THROTTLE_USER", "30/second")
    assert _rate("API_THROTTLE_USER", "1200/minute") == "30/second"

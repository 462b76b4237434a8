"""What operators read: JSON lines in production, text in development, one line per request."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "test-only-" + "k" * 60,
    "ALLOWED_HOSTS": "crm.example.com",
}
LOG_SOME_LINES = """
import logging
from django.test import Client
logging.getLogger("leads.import").warning("imported %s leads", 3, extra={"campaign_id": 7})
Client().get("/no-such-page/", HTTP_HOST="crm.example.com", secure=True)
"""


def run_shell(code: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_FORMAT", "LOG_LEVEL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=settings.BASE_DIR,
        env={
            **base,
            "LEADCRM_VAR_DIR": str(tmp_path),
            "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collectstatic output here
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_logs_json_lines_in_production(tmp_path):
    result = run_shell(LOG_SOME_LINES, tmp_path, **PRODUCTION_ENV)

    lines = [json.loads(line) for line in result.stderr.splitlines()]
    for line in lines:
        assert line.pop("time").startswith("20")
    assert lines == [
        {
            "level": "WARNING",
            "logger": "leads.import",
            "message": "imported 3 leads",
            "campaign_id": 7,
        },
        {
            "level": "INFO",
            "logger": "leadcrm.request",
            "message": lines[1]["message"],
            "method": "GET",
            "path": "/no-such-page/",
            "status": 404,
            "duration_ms": lines[1]["duration_ms"],
        },
        {
            "level": "WARNING",
            "logger": "django.request",
            "message": "Not Found: /no-such-page/",
            "status_code": 404,
            "request": "<WSGIRequest: GET '/no-such-page/'>",
        },
    ]
    assert lines[1]["message"] == f"GET /no-such-page/ 404 {lines[1]['duration_ms']:.1f} ms"


def test_it_logs_readable_text_in_development_and_as_chosen(tmp_path):
    code = 'import logging; logging.getLogger("leads.import").warning("imported %s leads", 3)'

    development = run_shell(code, tmp_path, DEBUG="1")
    chosen = run_shell(code, tmp_path, **PRODUCTION_ENV, LOG_FORMAT="text")

    for result in (development, chosen):
        assert result.stderr.strip().endswith(" WARNING leads.import: imported 3 leads")
    json_in_development = json.loads(run_shell(code, tmp_path, DEBUG="1", LOG_FORMAT="json").stderr)
    assert json_in_development["message"] == "imported 3 leads"


def test_it_refuses_an_unknown_log_format(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "LEADCRM_VAR_DIR": str(tmp_path), "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "LOG_FORMAT must be one of ['json', 'text'], got 'xml'" in result.stderr


@pytest.mark.django_db
def test_it_logs_each_request_with_method_path_status_and_duration(client, caplog, marketer):
    client.force_login(marketer)

    with caplog.at_level(logging.INFO, logger="leadcrm.request"):
        client.get("/leads/?stage=mql")

    [line] = [r for r in caplog.records if r.name == "leadcrm.request"]
    assert (line.method, line.path, line.status) == ("GET", "/leads/", 200)
    assert 0 < line.duration_ms < 10_000

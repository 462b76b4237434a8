import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "test-only-" + "k" * 60,
    "ALLOWED_HOSTS": "crm.example.com",
    "LEADCRM_REQUIRE_SECRET_KEY": "1",
}


def manage(*args: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, "LEADCRM_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_the_deployment_checklist_with_production_settings(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path
    )

    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def compose_default_environment(**required: str) -> dict[str, str]:
    """The app containers' environment in docker-compose.yml with nothing set in the shell:
    ``${NAME:-default}`` becomes the default, ``${NAME:?message}`` a value from ``required``."""
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())

    def resolve(match: re.Match) -> str:
        name, operator, default = match.groups()
        return required[name] if operator == ":?" else default

    return {
        name: re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", resolve, str(value))
        for name, value in compose["x-leadcrm"]["environment"].items()
    }


def test_it_passes_the_deployment_checklist_with_the_compose_defaults(tmp_path):
    env = compose_default_environment(SECRET_KEY="test-only-" + "k" * 60)
    assert env["SECURE_SSL_REDIRECT"] == "1"
    assert env["TRUST_X_FORWARDED_PROTO"] == "0"

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


REQUEST_OVER_A_PROXY = """
from django.test import Client
response = Client(HTTP_HOST="crm.example.com", HTTP_X_FORWARDED_PROTO="https").get("/api/v1/leads/")
print(response.status_code, response.headers.get("Location"))
"""


def test_it_ignores_x_forwarded_proto_unless_a_proxy_is_declared(tmp_path):
    """Otherwise any client could claim HTTPS, skipping the redirect (and secure-only checks)."""
    result = manage(
        "shell", "--no-imports", "-c", REQUEST_OVER_A_PROXY, env=PRODUCTION_ENV, tmp_path=tmp_path
    )

    assert result.stdout.split() == ["301", "https://crm.example.com/api/v1/leads/"]


def test_it_trusts_x_forwarded_proto_when_told_a_proxy_sets_it(tmp_path):
    env = {**PRODUCTION_ENV, "TRUST_X_FORWARDED_PROTO": "1"}

    result = manage("shell", "--no-imports", "-c", REQUEST_OVER_A_PROXY, env=env, tmp_path=tmp_path)

    assert result.stdout.split() == ["401", "None"]

"""`make run` end to end: SQLite, kombu's file-system broker, web + worker + beat under honcho.

The test starts scripts/run.sh, the very script `make run` calls, in an environment without any
server (no DATABASE_URL, no REDIS_URL) and talks to it over real HTTP.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from bench.machine import family

DEMO_LEADS = 200
SERVER_ENV_PREFIXES = ("DATABASE_", "REDIS_", "CELERY_", "CACHE_", "LEADCRM_", "DJANGO_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pids: set[int]) -> set[int]:
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


@pytest.fixture
def make_run(tmp_path) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """The app as `make run` starts it; yields its base URL, its output log and the process.
    Stops every process it started, also when the test fails."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_PREFIXES)}
    env |= {
        "LEADCRM_VAR_DIR": str(tmp_path / "var"),
        "LEADCRM_DEMO_LEADS": str(DEMO_LEADS),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    env.pop("DEBUG", None)
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(settings.BASE_DIR) / "scripts" / "run.sh")],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", log, process
    finally:
        # honcho starts each Procfile process in its own session: killing honcho's process
        # group alone would leave them running.
        started = family(process.pid)
        process.send_signal(signal.SIGINT)  # Ctrl-C: honcho stops web, worker and beat
        deadline = time.monotonic() + 20
        while alive(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(started)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        process.wait(timeout=5)
        assert not left, f"still running 20 s after Ctrl-C: {left}\n{log.read_text()[-3000:]}"


def get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:  # 503 still carries the report
        return json.load(error)


def wait_for_health(base_url: str, log: Path, process: subprocess.Popen, timeout: float) -> dict:
    """The first /healthz report whose heartbeat is ok (beat sends one when it starts)."""
    deadline = time.monotonic() + timeout
    report: dict = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            report = get_json(f"{base_url}/healthz")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # still migrating, seeding or starting
        else:
            if report["checks"]["heartbeat"]["status"] == "ok":
                return report
        time.sleep(0.5)
    pytest.fail(f"no healthy /healthz within {timeout} s: {report}\n{log.read_text()[-3000:]}")


def test_it_serves_health_login_and_leads_the_make_run_way(make_run):
    base_url, log, process = make_run

    report = wait_for_health(base_url, log, process, timeout=80)

    assert report["status"] == "ok"
    assert {name: check["status"] for name, check in report["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "heartbeat": "ok",
    }
    assert report["checks"]["heartbeat"]["age_seconds"] <= 120

    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with browser.open(f"{base_url}/login/", timeout=10) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    assert token, "the login page has no CSRF token"
    form = {"username": "marketer", "password": "demo-password", "csrfmiddlewaretoken": token[1]}
    with browser.open(
        f"{base_url}/login/", data=urllib.parse.urlencode(form).encode(), timeout=30
    ) as response:
        final_url, page = response.url, response.read().decode()

    assert final_url == f"{base_url}/leads/"
    assert f"{DEMO_LEADS} leads" in page
    assert page.count('class="lead-link"') >= 20
    assert "Mara Keller" in page  # the marketer's name in the header: logged in

    # The development database refuses two leads with one e-mail, as PostgreSQL does (leads 0021).
    database = sqlite3.connect(log.parent / "var" / "leadcrm.sqlite3", timeout=20)
    try:
        (first,), (second,) = database.execute(
            "SELECT email_key FROM leads_lead ORDER BY id LIMIT 2"
        ).fetchall()
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            database.execute(
                "UPDATE leads_lead SET email_key = ? WHERE email_key = ?", (first, second)
            )
    finally:
        database.close()

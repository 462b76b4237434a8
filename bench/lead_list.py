"""Lead list latency: the API and the page, over real HTTP, beside the plain SQL they wrap.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.lead_list [--requests 200] [--explain]

Needs data from ``bench.generate``. Starts gunicorn (1 worker, DEBUG=0) on a free port of 127.0.0.1,
then measures, 200 requests each (after a warm-up):

- ``GET /api/v1/leads/?stage=sql&owner=<rep>``: page 1, and page 2 through the returned ``next``
  cursor (DRF token of a sales manager);
- ``GET /leads/?stage=sql&owner=<rep>&page=N``: page 1 and a deeper page (session cookie);
- the search box: ``?q=<first four letters of a last name>`` on the API and on the page;
- the baseline: the main SELECT each request runs (captured in-process), run bare through psycopg2.

It also counts the SQL queries of each request in-process; page 1 and later pages must match.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "WHITENOISE_USE_FINDERS": "1",
    "LOG_LEVEL": "WARNING",
}
# The in-process part (query counts, baseline SQL) runs with the server's settings, so both sign
# sessions with the same key.
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.generate import BENCH_REP_PREFIX  # noqa: E402
from leadcrm.roles import Role  # noqa: E402
from leads.lifecycle import Stage  # noqa: E402
from leads.models import Lead  # noqa: E402

BENCH_MANAGER = "bench-manager"
API_GOAL_MS = 50.0
PAGE_GOAL_MS = 150.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manager() -> Any:
    user, _created = get_user_model().objects.get_or_create(
        username=BENCH_MANAGER, defaults={"first_name": "Bench", "last_name": "Manager"}
    )
    user.groups.add(Group.objects.get(name=Role.SALES_MANAGER))
    return user


def _session_cookie(user: Any) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _busiest_rep() -> int:
    """The bench rep with the most SQL leads: the longest list to page through."""
    row = (
        Lead.objects.filter(stage=Stage.SQL, owner__username__startswith=BENCH_REP_PREFIX)
        .values("owner")
        .annotate(n=django.db.models.Count("id"))
        .order_by("-n")
        .first()
    )
    if row is None:
        raise SystemExit("No SQL leads of bench reps: run bench.generate first")
    return row["owner"]


class Server:
    """gunicorn with one sync worker, as production runs it, on a free local port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "leadcrm.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env={**os.environ, **SERVER_ENV},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _body, _headers = self.get("/healthz")
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return self
            time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), response.headers
        finally:
            conn.close()


def _timed(call: Callable[[], Any], runs: int, warmup: int = 10) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[94]


def _http_timer(server: Server, path: str, headers: dict[str, str]) -> Callable[[], None]:
    def call() -> None:
        status, body, _headers = server.get(path, headers)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")

    return call


def _capture(path: str, **headers: str) -> tuple[int, str, bytes]:
    """Run one request in-process; the number of queries and the main SELECT on leads."""
    client = Client(SERVER_NAME="127.0.0.1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"in-process GET {path} answered {response.status_code}")
    selects = [q["sql"] for q in queries.captured_queries if 'FROM "leads_lead"' in q["sql"]]
    main = max(selects, key=lambda sql: ("LIMIT" in sql, len(sql)), default="")
    return len(queries.captured_queries), main, response.content


def _sql_timer(dsn: dict[str, Any], sql: str) -> tuple[Callable[[], None], Any]:
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    cursor = conn.cursor()

    def call() -> None:
        cursor.execute(sql)
        cursor.fetchall()

    return call, conn


def _dsn() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"] or 5432,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deep-page", type=int, default=20, help="Second page measured (20).")
    parser.add_argument("--explain", action="store_true", help="Print EXPLAIN ANALYZE plans.")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.lead_list needs PostgreSQL: set DATABASE_URL")

    # DEBUG=0 serves hashed static names from the manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    manager = _manager()
    token = Token.objects.get_or_create(user=manager)[0].key
    api_headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    cookie = _session_cookie(manager)
    page_headers = {"Cookie": cookie}
    owner = _busiest_rep()
    leads_count = Lead.objects.count()
    if not leads_count:
        raise SystemExit("No leads: run bench.generate first")
    owner_sql = Lead.objects.filter(stage=Stage.SQL, owner_id=owner).count()
    api_first = f"/api/v1/leads/?stage=sql&owner={owner}"
    page_first = f"/leads/?stage=sql&owner={owner}&page=1"
    page_deep = f"/leads/?stage=sql&owner={owner}&page={args.deep_page}"
    # Search: the first letters of a last name from the middle of the data, as a user types them.
    middle = Lead.objects.order_by("id").values_list("last_name", flat=True)[leads_count // 2]
    prefix = quote(middle[:4])
    api_search = f"/api/v1/leads/?q={prefix}"
    page_search = f"/leads/?q={prefix}"
    print(f"{leads_count:,} leads; owner {owner} has {owner_sql:,} SQL leads")

    # In-process: query counts per request and the main SELECT each one runs.
    api_auth = {"Authorization": f"Token {token}"}
    n_api1, sql_api1, body = _capture(api_first, **api_auth)
    next_url = json.loads(body)["next"]
    if next_url is None:
        raise SystemExit(f"Rep {owner}'s {owner_sql} SQL leads fit on one page: generate more")
    split = urlsplit(next_url)
    api_next = f"{split.path}?{split.query}"
    n_api2, sql_api2, _body = _capture(api_next, **api_auth)
    n_page1, sql_page1, _body = _capture(page_first, Cookie=cookie)
    n_page2, sql_page2, _body = _capture(page_deep, Cookie=cookie)
    _n, sql_api_search, _body = _capture(api_search, **api_auth)
    _n, sql_page_search, _body = _capture(page_search, Cookie=cookie)
    print(f"queries per request: API page 1 {n_api1}, API page 2 {n_api2}; ", end="")
    print(f"list page 1 {n_page1}, list page {args.deep_page} {n_page2}")
    if n_api1 != n_api2 or n_page1 != n_page2:
        raise SystemExit("The number of queries depends on the page: an N+1 somewhere")

    dsn = _dsn()
    results: list[tuple[str, tuple[float, float], tuple[float, float] | None, float | None]] = []
    connections = []
    with Server() as server:
        for label, path, headers, sql, goal in [
            ("API page 1", api_first, api_headers, sql_api1, API_GOAL_MS),
            ("API page 2 (cursor)", api_next, api_headers, sql_api2, API_GOAL_MS),
            ("list page 1", page_first, page_headers, sql_page1, PAGE_GOAL_MS),
            (f"list page {args.deep_page}", page_deep, page_headers, sql_page2, PAGE_GOAL_MS),
            # The issue sets goals for the stage/owner list; search is measured, not judged.
            (f"API search {middle[:4]!r}", api_search, api_headers, sql_api_search, None),
            (
                f"list search {middle[:4]!r}",
                page_search,
                page_headers,
                sql_page_search,
                None,
            ),
        ]:
            http_figures = _timed(_http_timer(server, path, headers), args.requests)
            sql_figures = None
            if sql:
                call, conn = _sql_timer(dsn, sql)
                connections.append(conn)
                sql_figures = _timed(call, args.requests)
                if args.explain:
                    with conn.cursor() as cursor:
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                        print(f"-- {label}\n{sql}")
                        print("\n".join(row[0] for row in cursor.fetchall()))
            results.append((label, http_figures, sql_figures, goal))
    for conn in connections:
        conn.close()

    print()
    print(f"{'request':<22} {'p50 ms':>8} {'p95 ms':>8}   {'SQL p50':>8} {'SQL p95':>8}   goal p95")
    failed = False
    for label, (p50, p95), sql_figures, goal in results:
        sql_text = f"{sql_figures[0]:>8.2f} {sql_figures[1]:>8.2f}" if sql_figures else " " * 17
        if goal is None:
            judged = "-"
        else:
            judged = f"< {goal:.0f} " + ("ok" if p95 < goal else "MISSED")
            failed |= p95 >= goal
        print(f"{label:<22} {p50:>8.2f} {p95:>8.2f}   {sql_text}   {judged}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Lead list latency: every sort and filter, on the API and the page, over real HTTP, beside the
plain SQL they wrap.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.lead_list [--requests 200] [--only score]

Needs data from ``bench.generate``. Starts gunicorn (1 worker, DEBUG=0) on a free port of 127.0.0.1,
then measures each line 200 times (after a warm-up), as a sales manager (who sees every lead):

- ``GET /leads/?…`` (session cookie) and ``GET /api/v1/leads/?…`` (DRF token) for every sort, every
  filter alone, the combinations users make, the search box, and page 21 of the long lists (reached
  through the ``next`` links, as a user clicking "Next" twenty times);
- the baseline: the main SELECT each request runs (captured in-process), run bare through psycopg2.

It also counts the SQL queries of each request in-process: page 1 and page 21 must match. Goals:
API p95 < 30 ms, page p95 < 100 ms for every line.
"""

import argparse
import html
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    # 200 requests a line, a line every few seconds: more than the default 1,200 a minute. The
    # throttle's work is the same at any rate (leadcrm.throttling), so it is measured all the same.
    "API_THROTTLE_USER": "1000000/minute",
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
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.generate import BENCH_REP_PREFIX  # noqa: E402
from bench.machine import Watch, family  # noqa: E402
from leadcrm.roles import Role  # noqa: E402
from leads.lifecycle import Stage  # noqa: E402
from leads.listing import SORTS  # noqa: E402
from leads.models import Lead  # noqa: E402

BENCH_MANAGER = "bench-manager"
API_GOAL_MS = 30.0
PAGE_GOAL_MS = 100.0
DEEP_PAGE = 21
# The page's sorts as the API's ?ordering= (the API has no name or company ordering).
API_ORDERING = {
    "newest": "-created_at",
    "oldest": "created_at",
    "score": "-behaviour_score",
    "rank": "rank",
    "stage_changed": "-stage_changed_at",
}
NEXT_LINK = re.compile(r'href="\?([^"]*cursor=[^"]*)"[^>]*rel="next"', re.DOTALL)


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
    session[BACKEND_SESSION_KEY] = "leadcrm.roles.RoleModelBackend"
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


def _lines(owner: int, campaign: int, prefix: str, month_ago: str) -> list[tuple[str, str]]:
    """(label, query string in the page's terms) for every line measured."""
    lines = [(f"sort {sort}", f"sort={sort}") for sort in SORTS]
    lines += [
        ("rep's SQLs", f"stage=sql&owner={owner}"),
        ("unassigned", "unassigned=true"),
        ("grade A", "grade=A"),
        ("hot", "temperature=hot"),
        ("channel webinar", "source_channel=webinar"),
        ("one campaign", f"campaign={campaign}"),
        ("created last 30 days", f"created_after={month_ago}"),
        (f"search {prefix!r}", f"q={prefix}"),
        ("unassigned MQLs by rank", "stage=mql&unassigned=true&sort=rank"),
        ("hot by score", "temperature=hot&sort=score"),
        ("rep's leads by stage change", f"owner={owner}&sort=stage_changed"),
        ("grade A by company", "grade=A&sort=company"),
        ("webinar by name", "source_channel=webinar&sort=name"),
        ("campaign by score", f"campaign={campaign}&sort=score"),
        (f"search {prefix!r} by score", f"q={prefix}&sort=score"),
        ("last 30 days by score", f"created_after={month_ago}&sort=score"),
    ]
    return lines


def _api_query(query: str) -> str | None:
    """The page's query string in the API's terms; None for a sort the API does not offer."""
    params = QueryDict(query, mutable=True)
    sort = params.pop("sort", ["newest"])[0]
    if sort not in API_ORDERING:
        return None
    params["ordering"] = API_ORDERING[sort]
    return params.urlencode()


def _walk(path: str, headers: dict[str, str], *, api: bool) -> str:
    """The address of page DEEP_PAGE, following the ``next`` links from ``path``."""
    client = Client(SERVER_NAME="127.0.0.1")
    for _ in range(DEEP_PAGE - 1):
        response = client.get(path, headers=headers)
        if api:
            following = response.json()["next"]
            if following is None:
                raise SystemExit(f"{path} has fewer than {DEEP_PAGE} pages")
            split = urlsplit(following)
            path = f"{split.path}?{split.query}"
        else:
            match = NEXT_LINK.search(response.content.decode())
            if match is None:
                raise SystemExit(f"{path} has fewer than {DEEP_PAGE} pages")
            path = f"/leads/?{html.unescape(match.group(1))}"
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", help="Measure only the lines whose label contains this.")
    parser.add_argument("--explain", action="store_true", help="Print EXPLAIN ANALYZE plans.")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.lead_list needs PostgreSQL: set DATABASE_URL")

    # DEBUG=0 serves hashed static names from the manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    manager = _manager()
    token = Token.objects.get_or_create(user=manager)[0].key
    api_headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    page_headers = {"Cookie": _session_cookie(manager)}
    leads_count = Lead.objects.count()
    if not leads_count:
        raise SystemExit("No leads: run bench.generate first")
    owner = _busiest_rep()
    campaign = Lead.objects.exclude(first_campaign=None).values_list("first_campaign", flat=True)[0]
    # Search: the first letters of a last name from the middle of the data, as a user types them.
    middle = Lead.objects.order_by("id").values_list("last_name", flat=True)[leads_count // 2]
    prefix = middle[:4]
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    print(f"{leads_count:,} leads; busiest rep {owner}; campaign {campaign}; search {prefix!r}")

    requests: list[tuple[str, str, dict[str, str], float]] = []
    for label, query in _lines(owner, campaign, prefix, month_ago):
        quoted = QueryDict(query).urlencode()
        requests.append((f"page {label}", f"/leads/?{quoted}", page_headers, PAGE_GOAL_MS))
        api_query = _api_query(query)
        if api_query is not None:
            path = f"/api/v1/leads/?{api_query}"
            requests.append((f"API {label}", path, api_headers, API_GOAL_MS))
    for sort in ("newest", "score", "company"):
        path = _walk(f"/leads/?sort={sort}", page_headers, api=False)
        requests.append((f"page {sort} p.{DEEP_PAGE}", path, page_headers, PAGE_GOAL_MS))
    for sort in ("newest", "score"):
        path = _walk(f"/api/v1/leads/?ordering={API_ORDERING[sort]}", api_headers, api=True)
        requests.append((f"API {sort} p.{DEEP_PAGE}", path, api_headers, API_GOAL_MS))
    if args.only:
        requests = [request for request in requests if args.only in request[0]]

    # In-process: query counts per request and the main SELECT each one runs.
    captured = {}
    for label, path, headers, _goal in requests:
        auth = {"Authorization": headers["Authorization"]} if "Authorization" in headers else {}
        captured[label] = _capture(path, **(auth or {"Cookie": headers["Cookie"]}))
    counts = {label: n for label, (n, _sql, _body) in captured.items()}
    print(
        "queries per request: page",
        sorted({n for k, n in counts.items() if k.startswith("page")}),
        "API",
        sorted({n for k, n in counts.items() if k.startswith("API")}),
    )

    dsn = _dsn()
    results = []
    connections = []
    with Server() as server:
        watch = Watch(ours={os.getpid(), *family(server.process.pid)})
        for label, path, headers, goal in requests:
            watch.since()
            http_figures = _timed(_http_timer(server, path, headers), args.requests)
            elsewhere = watch.since()
            sql = captured[label][1]
            call, conn = _sql_timer(dsn, sql)
            connections.append(conn)
            sql_figures = _timed(call, args.requests)
            if args.explain:
                with conn.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                    print(f"-- {label}\n{sql}")
                    print("\n".join(row[0] for row in cursor.fetchall()))
            results.append((label, http_figures, sql_figures, goal, elsewhere))
            print(
                f"  {label}: p95 {http_figures[1]:.1f} ms; CPU elsewhere {elsewhere}",
                file=sys.stderr,
                flush=True,
            )
    for conn in connections:
        conn.close()

    print()
    print(
        f"{'request':<38} {'p50 ms':>8} {'p95 ms':>8}   {'SQL p50':>8} {'SQL p95':>8}   "
        f"{'goal p95':<12} CPU elsewhere meanwhile"
    )
    failed = False
    for label, (p50, p95), (sql50, sql95), goal, elsewhere in results:
        judged = f"< {goal:.0f} " + ("ok" if p95 < goal else "MISSED")
        failed |= p95 >= goal
        print(
            f"{label:<38} {p50:>8.2f} {p95:>8.2f}   {sql50:>8.2f} {sql95:>8.2f}   {judged:<12} "
            f"{elsewhere}"
        )
    print(
        "CPU elsewhere: what every other process (PostgreSQL's background ones, the kernel's, other"
        " programs) used while the line's requests ran, in per cent of one core (bench.machine)."
    )
    inconsistent = {
        sort
        for sort in ("newest", "score", "company")
        if f"page {sort} p.{DEEP_PAGE}" in counts
        and counts[f"page {sort} p.{DEEP_PAGE}"] != counts.get(f"page sort {sort}")
    }
    if inconsistent:
        print(f"The number of queries depends on the page for {sorted(inconsistent)}: an N+1?")
        failed = True
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

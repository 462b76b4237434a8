"""The rep's queue: the page and the API list a rep works from, over real HTTP, beside the plain
SELECT of the same rows.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.queue [--requests 200]

Needs data from ``bench.generate``. Takes the bench rep with the most open MQLs and SQLs, starts
gunicorn (1 worker, DEBUG=0) and measures, 200 times each after a warm-up, as that rep:

- ``GET /sales/queue/`` (session cookie) and its second page (through the ``Next`` link);
- ``GET /api/v1/leads/?stage=sql&owner=<rep>&ordering=rank`` (DRF token);
- the baseline: the main SELECT each request runs (captured in-process), bare through psycopg2.

Queries per request are counted in-process: the queue's first and second pages must match.
Goals: API p95 < 30 ms, page p95 < 100 ms.
"""

import argparse
import html
import re
import sys

# bench.lead_list sets the server's environment and sets Django up: import it first.
from bench.lead_list import (  # isort: skip
    Server,
    _capture,
    _dsn,
    _http_timer,
    _session_cookie,
    _sql_timer,
    _timed,
)
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from rest_framework.authtoken.models import Token

from bench.generate import BENCH_REP_PREFIX
from leads.lifecycle import Stage
from leads.models import Lead

API_GOAL_MS = 30.0
PAGE_GOAL_MS = 100.0
NEXT_LINK = re.compile(r'href="\?([^"]*cursor=[^"]*)"[^>]*rel="next"', re.DOTALL)


def _busiest_rep():
    row = (
        Lead.objects.filter(
            stage__in=[Stage.MQL, Stage.SQL], owner__username__startswith=BENCH_REP_PREFIX
        )
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if row is None:
        raise SystemExit("No open leads of bench reps: run bench.generate first")
    return Lead._meta.get_field("owner").related_model.objects.get(pk=row["owner"]), row["n"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.queue needs PostgreSQL: set DATABASE_URL")
    # DEBUG=0 serves hashed static names from the manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    rep, open_leads = _busiest_rep()
    cookie = {"Cookie": _session_cookie(rep)}
    token = Token.objects.get_or_create(user=rep)[0].key
    api_headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    print(
        f"{Lead.objects.count():,} leads; rep {rep.username} has {open_leads:,} open MQLs and SQLs"
    )

    page_first = "/sales/queue/"
    n_page1, sql_page1, body = _capture(page_first, Cookie=cookie["Cookie"])
    match = NEXT_LINK.search(body.decode())
    if match is None:
        raise SystemExit("The queue fits on one page: generate more leads")
    page_second = f"/sales/queue/?{html.unescape(match.group(1))}"
    n_page2, sql_page2, _body = _capture(page_second, Cookie=cookie["Cookie"])
    api = f"/api/v1/leads/?stage=sql&owner={rep.pk}&ordering=rank"
    n_api, sql_api, _body = _capture(api, Authorization=api_headers["Authorization"])
    print(f"queries per request: queue page 1 {n_page1}, page 2 {n_page2}; API {n_api}")

    dsn = _dsn()
    results = []
    with Server() as server:
        for label, path, headers, sql, goal in [
            ("queue page 1", page_first, cookie, sql_page1, PAGE_GOAL_MS),
            ("queue page 2", page_second, cookie, sql_page2, PAGE_GOAL_MS),
            ("API SQLs by rank", api, api_headers, sql_api, API_GOAL_MS),
        ]:
            http_figures = _timed(_http_timer(server, path, headers), args.requests)
            call, conn = _sql_timer(dsn, sql)
            sql_figures = _timed(call, args.requests)
            conn.close()
            results.append((label, http_figures, sql_figures, goal))

    print()
    print(f"{'request':<20} {'p50 ms':>8} {'p95 ms':>8}   {'SQL p50':>8} {'SQL p95':>8}   goal p95")
    failed = n_page1 != n_page2
    for label, (p50, p95), (sql50, sql95), goal in results:
        judged = f"< {goal:.0f} " + ("ok" if p95 < goal else "MISSED")
        failed |= p95 >= goal
        print(f"{label:<20} {p50:>8.2f} {p95:>8.2f}   {sql50:>8.2f} {sql95:>8.2f}   {judged}")
    if n_page1 != n_page2:
        print("The number of queries depends on the page: an N+1 somewhere")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The "Best rank" order and the rank filter: the lead list's SQL with and without its index.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.lead_rank [--runs 50]

Needs data from ``bench.generate``. Builds the queries the API and the page run (as a marketer,
who sees every lead) with the ORM, then times each through psycopg2, median and p95 of
``--runs`` runs after a warm-up:

- ``ordering=rank``, page 1, and a page deep in the keyset (the cursor of the lead in the middle);
- ``rank=A1,A2,B1`` with ``ordering=rank``, page 1 and a later page;
- ``rank=A1,A2,B1`` newest first (the default order), and the count the page shows;
- the page's "Best rank", page 200 (OFFSET 9,950).

The baseline is the same queries in the same run without the index ``lead_best_rank``: it is
dropped inside a transaction that is rolled back, so the database is left as it was.
"""

import argparse
import os
import statistics
import sys
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan  # noqa: E402

from leads.models import RANK_ORDER, Lead  # noqa: E402

BEST_RANK = ("-rank_order", "-created_at", "-id")
KEY = ("rank_order", "created_at", "id")
HOT = [RANK_ORDER[rank] for rank in ("A1", "A2", "B1")]
PAGE = 51  # a page of 50 and one more, as the cursor pagination reads


def _middle_position(queryset) -> tuple:
    count = queryset.count()
    return queryset.order_by(*BEST_RANK).values_list(*KEY)[count // 2]


def _after(position: tuple):
    return TupleLessThan(Tuple(*(F(name) for name in KEY)), position)


def _queries() -> dict[str, Any]:
    leads = Lead.objects.select_related("company", "owner", "first_campaign")
    hot = leads.filter(rank_order__in=HOT)
    middle, hot_middle = _middle_position(Lead.objects), _middle_position(hot)
    return {
        "ordering=rank, page 1": leads.order_by(*BEST_RANK)[:PAGE],
        "ordering=rank, middle page": leads.filter(_after(middle)).order_by(*BEST_RANK)[:PAGE],
        "rank=A1,A2,B1&ordering=rank, page 1": hot.order_by(*BEST_RANK)[:PAGE],
        "rank=A1,A2,B1&ordering=rank, middle page": hot.filter(_after(hot_middle)).order_by(
            *BEST_RANK
        )[:PAGE],
        "rank=A1,A2,B1, newest first": hot.order_by("-created_at", "-id")[:PAGE],
        "rank=A1,A2,B1, count": hot.values("id"),
        "page: Best rank, page 200": leads.order_by(*BEST_RANK)[9950:10000],
    }


def _sql(queryset, name: str) -> tuple[str, tuple]:
    if name.endswith("count"):
        sql, params = queryset.query.sql_with_params()
        return f"SELECT COUNT(*) FROM ({sql}) AS counted", params
    return queryset.query.sql_with_params()


def _time(cursor, sql: str, params: tuple, runs: int) -> tuple[float, float]:
    for _ in range(3):
        cursor.execute(sql, params)
        cursor.fetchall()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Needs PostgreSQL: set DATABASE_URL.")
    total = Lead.objects.count()
    statements = {name: _sql(qs, name) for name, qs in _queries().items()}
    print(f"{total:,} leads; median / p95 of {args.runs} runs, ms")
    print(f"{'query':44} {'with lead_best_rank':>22} {'without (baseline)':>22}")
    with connection.cursor() as cursor:
        with_index = {name: _time(cursor, *s, args.runs) for name, s in statements.items()}
        cursor.execute("BEGIN")
        try:
            cursor.execute("DROP INDEX lead_best_rank")
            runs = max(3, args.runs // 10)  # the baseline is slow: fewer runs
            without = {name: _time(cursor, *s, runs) for name, s in statements.items()}
        finally:
            cursor.execute("ROLLBACK")
    for name in statements:
        (m1, p1), (m2, p2) = with_index[name], without[name]
        print(f"{name:44} {m1:10.1f} / {p1:8.1f}  {m2:10.1f} / {p2:8.1f}")


if __name__ == "__main__":
    main()

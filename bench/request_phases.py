"""Where one API request's time goes, in process: DRF's phases, SQL, and the garbage collector.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.request_phases \
        "/api/v1/leads/?ordering=-created_at" [--requests 300] [--freeze]

A diagnostic beside ``bench.lead_list`` (which measures over HTTP and has the goals): the same
request through Django's test client as the first sales manager, after a warm-up, timing
authentication, permissions, throttling, filters, pagination (with its SQL), serialisation, all
SQL, and the collector's pauses per request, with p50/p95/p99 of the whole. ``--freeze`` does what
``gunicorn.conf.py`` does in a worker (``gc.freeze()`` after loading) before measuring. Raise
``API_THROTTLE_USER`` (e.g. ``5000/minute``) for runs of more than a few hundred requests.
"""

import argparse
import gc
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework import generics, serializers  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from leadcrm.api import CountedKeysetPagination  # noqa: E402
from leadcrm.roles import Role  # noqa: E402

PHASES: list[tuple[type, str, str]] = [
    (APIView, "perform_authentication", "authentication"),
    (APIView, "check_permissions", "permissions"),
    (APIView, "check_throttles", "throttling"),
    (generics.GenericAPIView, "filter_queryset", "filters"),
    (CountedKeysetPagination, "paginate_queryset", "pagination (with its SQL)"),
    (serializers.ListSerializer, "to_representation", "serialisation"),
]


def _timed(spent: defaultdict, label: str, method: Callable) -> Callable:
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() before measuring")
    args = parser.parse_args()

    spent: defaultdict[str, float] = defaultdict(float)
    for owner, name, label in PHASES:
        setattr(owner, name, _timed(spent, label, getattr(owner, name)))

    def sql(execute, *query):
        started = time.perf_counter()
        try:
            return execute(*query)
        finally:
            spent["SQL (all queries)"] += time.perf_counter() - started

    collections, paused, started_at = Counter(), [0.0], [0.0]

    def collector(phase: str, info: dict) -> None:
        if phase == "start":
            started_at[0] = time.perf_counter()
        else:
            collections[info["generation"]] += 1
            paused[0] += time.perf_counter() - started_at[0]

    manager = get_user_model().objects.filter(groups__name=Role.SALES_MANAGER).first()
    client = Client(
        HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=manager)[0].key}",
        HTTP_ACCEPT="application/json",
    )
    for _warm_up in range(20):
        response = client.get(args.url)
    if response.status_code != 200:
        raise SystemExit(f"{args.url}: HTTP {response.status_code}")
    if args.freeze:
        gc.collect()
        gc.freeze()
    spent.clear()
    gc.callbacks.append(collector)
    times = []
    with connection.execute_wrapper(sql):
        for _request in range(args.requests):
            started = time.perf_counter()
            client.get(args.url)
            times.append(time.perf_counter() - started)
    gc.callbacks.remove(collector)

    times.sort()
    count = args.requests

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:6.2f}"

    print(
        f"{args.url}, {count} requests{' (gc frozen)' if args.freeze else ''}: "
        f"p50 {ms(times[count // 2])}  p95 {ms(times[int(count * 0.95)])}  "
        f"p99 {ms(times[int(count * 0.99)])}  mean {ms(sum(times) / count)} ms"
    )
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label:28s} {ms(seconds / count)} ms/request")
    print(
        f"  {'garbage collector':28s} {ms(paused[0] / count)} ms/request; collections by "
        f"generation {dict(sorted(collections.items()))}; tracked objects {len(gc.get_objects()):,}"
    )


if __name__ == "__main__":
    main()

"""The beat's retry of MQLs no rule could place, beside a bare owner UPDATE.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.place_waiting [--leads 10000]

Sets up two teams of five reps (DACH by a country rule, everyone else by a catch-all), every rep
at a capacity of 0 (all full), and ``--leads`` unassigned MQLs (a quarter in DACH) that waited
for a seat, beside whatever leads the database holds already. Measured, in one run:

1. a beat run while nobody has room (what every run costs until someone does): the median and
   the slowest of 20 runs of ``sales.assignment.mqls_place_waiting``, against the cheapest look
   at the waiting leads, ``SELECT count(*)`` of the unassigned MQLs;
2. the reps get room (no limit): beat runs (each at most ``WAITING_LIMIT`` leads) until one
   places nothing, as leads/s, against a bare ``UPDATE leads_lead SET owner_id = …`` of the same
   leads (round-robin by id; no rules, locks, history, SLA or notifications);
3. checks: every bench lead placed once, no lead with two running assignments, and a further
   run places nothing.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from bench.assign import create_mqls, set_up_teams  # noqa: E402
from leads.models import Lead, LeadChange  # noqa: E402
from sales.assignment import WAITING_LIMIT, mqls_place_waiting  # noqa: E402
from sales.models import Assignment, Notification, RepProfile  # noqa: E402

PREFIX = "bench-wait-"
TEAMS = [("Bench wait DACH", ["DE", "AT", "CH"]), ("Bench wait rest", [])]
COUNTRIES = ["DE", "US", "FR", "IT"]
REPS_PER_TEAM = 5


def set_up(leads: int) -> list[int]:
    set_up_teams(
        prefix=PREFIX,
        teams=TEAMS,
        rep_name=lambda team, index: f"bench-wait-{team.split()[-1].lower()}-{index}",
        profile=lambda index: {"away": False, "capacity": 0},
    )
    return create_mqls(prefix=PREFIX, countries=COUNTRIES, leads=leads)


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def count_waiting() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM leads_lead WHERE stage = 'mql' AND owner_id IS NULL",
        )
        return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.place_waiting needs PostgreSQL (DATABASE_URL).")

    ids = set_up(args.leads)
    total = Lead.objects.count()
    idle = [timed(mqls_place_waiting) for _ in range(args.runs)]
    if any(placed for _seconds, placed in idle):
        raise SystemExit("placed a lead while every rep was full")
    look = [timed(count_waiting)[0] for _ in range(args.runs)]

    RepProfile.objects.filter(team__name__startswith="Bench wait").update(capacity=None)
    runs, placed, seconds = 0, 0, 0.0
    while True:
        took, made = timed(mqls_place_waiting)
        runs, seconds = runs + 1, seconds + took
        if not made:
            break
        placed += made
    mine = Lead.objects.filter(email_key__startswith=PREFIX)
    unplaced = mine.filter(owner__isnull=True).count()
    doubles = (
        Assignment.objects.filter(lead__in=mine)
        .values("lead")
        .annotate(n=Count("id", filter=Q(sla_closed_at__isnull=True)))
        .filter(n__gt=1)
        .count()
    )
    again = mqls_place_waiting()

    owners = list(
        RepProfile.objects.filter(team__name__startswith="Bench wait").values_list(
            "user_id", flat=True
        )
    )
    Notification.objects.filter(lead__in=mine).delete()
    Assignment.objects.filter(lead__in=mine).delete()
    LeadChange.objects.filter(lead__in=mine).delete()
    mine.update(owner=None)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "UPDATE leads_lead SET owner_id = (%s::bigint[])[(id %% %s) + 1], updated_at = now() "
            "WHERE id = ANY(%s) AND owner_id IS NULL",
            [owners, len(owners), ids],
        )
        bare_seconds, bare_done = time.perf_counter() - started, cursor.rowcount
    mine.delete()

    ms = [1000 * seconds for seconds, _placed in idle]
    look_ms = [1000 * seconds for seconds in look]
    print(f"\n{args.leads:,} waiting MQLs among {total:,} leads")
    print(f"{'nobody has room, one beat run':<44} {'median ms':>10} {'max ms':>8}")
    print(f"{'mqls_place_waiting':<44} {statistics.median(ms):>10.1f} {max(ms):>8.1f}")
    print(
        f"{'SELECT count(*) of the waiting (baseline)':<44} "
        f"{statistics.median(look_ms):>10.1f} {max(look_ms):>8.1f}"
    )
    print(f"{'room again':<44} {'leads/s':>10} {'seconds':>8}")
    print(
        f"{f'mqls_place_waiting, {runs} beat runs':<44} {placed / seconds:>10,.0f} {seconds:>8.2f}"
    )
    print(
        f"{'bare UPDATE … SET owner_id (baseline)':<44} "
        f"{bare_done / bare_seconds:>10,.0f} {bare_seconds:>8.2f}"
    )
    print(
        f"placed {placed:,} (at most {WAITING_LIMIT:,} a run); left unplaced {unplaced}; "
        f"leads with two running assignments {doubles}; placed by a further run {again}"
    )
    if unplaced or doubles or again:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

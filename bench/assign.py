"""Assigning new MQLs concurrently from several processes, beside a bare UPDATE of the owner.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.assign [--leads 10000] [--processes 4]

Sets up four teams of five reps each (DACH, Nordics, West by country rules; everyone else by a
catch-all rule), one rep per team away and one with a capacity of 50, then makes ``--leads``
fresh unassigned MQLs spread over those territories. ``--processes`` worker processes then call
``sales.assignment.leads_assign`` on batches of 500 (the chunk size of one Celery task), each
process its own share of the batches, all started together; then every batch again, in another
order, as a redelivered task would (it must assign nothing twice).

Printed, from one run: assignments/s (leads / wall time), evenness (max - min leads per available
rep without a capacity limit, within each team), leads with more than one owner change or
assignment row (must be 0), and leads left unassigned. The baseline, in the same run: the same
batches, processes and leads as a bare ``UPDATE leads_lead SET owner_id = … WHERE id IN (…)``
(round-robin by id, nothing else: no rules, locks, history, SLA or notifications).
"""

import argparse
import multiprocessing
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count  # noqa: E402

from leadcrm.roles import Role  # noqa: E402
from leads.lifecycle import Stage  # noqa: E402
from leads.models import Lead, LeadChange, LeadScore  # noqa: E402
from leads.normalize import normalize_email  # noqa: E402
from sales.models import Assignment, AssignmentRule, Notification, RepProfile, Team  # noqa: E402

BATCH = 500
PREFIX = "bench-assign-"
TERRITORIES = [
    ("Bench DACH", ["DE", "AT", "CH"]),
    ("Bench Nordics", ["SE", "NO", "DK", "FI"]),
    ("Bench West", ["FR", "BE", "NL", "GB"]),
    ("Bench rest", []),
]
# The leads' countries, in turn: a third outside every territory (the catch-all team).
COUNTRIES = ["DE", "AT", "CH", "SE", "NO", "FR", "NL", "GB", "US", "IT", "ES", "PL"]
REPS_PER_TEAM = 5


def set_up_teams(
    *, prefix: str, teams: list[tuple[str, list[str]]], rep_name: str, profile
) -> None:
    """Earlier bench leads (``prefix``), rules and bench teams removed; then per team a rule for
    its countries and REPS_PER_TEAM reps (``rep_name(team, index)`` their user name,
    ``profile(index)`` their RepProfile values besides the team)."""
    old = Lead.objects.filter(email_key__startswith=prefix)
    Notification.objects.filter(lead__in=old).delete()
    old.delete()
    AssignmentRule.objects.all().delete()
    Team.objects.filter(name__startswith="Bench ").delete()
    group = Group.objects.get(name=Role.SALES_REP)
    users = get_user_model().objects
    for position, (name, countries) in enumerate(teams):
        team = Team.objects.create(name=name)
        AssignmentRule.objects.create(
            name=name, team=team, countries=countries, position=10 * (position + 1)
        )
        for index in range(REPS_PER_TEAM):
            user, _created = users.get_or_create(
                username=rep_name(name, index),
                defaults={"first_name": name.split()[-1], "last_name": f"Rep {index}"},
            )
            user.groups.add(group)
            RepProfile.objects.update_or_create(
                user=user, defaults={"team": team, "assigned_count": 0, **profile(index)}
            )


def create_mqls(*, prefix: str, countries: list[str], leads: int) -> list[int]:
    """``leads`` fresh MQLs with their score rows (bulk_create skips Lead.save); their ids."""
    Lead.objects.bulk_create(
        (
            Lead(
                email=f"{prefix}{index}@example.com",
                email_key=normalize_email(f"{prefix}{index}@example.com"),
                first_name="Bench",
                last_name=str(index),
                country=countries[index % len(countries)],
                stage=Stage.MQL,
            )
            for index in range(leads)
        ),
        batch_size=2000,
    )
    ids = list(
        Lead.objects.filter(email_key__startswith=prefix)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    LeadScore.objects.bulk_create((LeadScore(lead_id=pk) for pk in ids), batch_size=5000)
    return ids


def set_up(leads: int) -> list[int]:
    """The teams, reps, rules and ``leads`` fresh MQLs (earlier bench leads removed first)."""
    set_up_teams(
        prefix=PREFIX,
        teams=TERRITORIES,
        rep_name=lambda team, index: f"bench-{team.split()[1].lower()}-{index}",
        profile=lambda index: {
            "away": index == 0,
            "capacity": 50 if index == 1 else None,
            "last_assigned_at": None,
        },
    )
    return create_mqls(prefix=PREFIX, countries=COUNTRIES, leads=leads)


def _assign(batches: list[list[int]]) -> int:
    from sales.assignment import leads_assign

    connections.close_all()
    return sum(len(leads_assign(lead_ids=batch)) for batch in batches)


def _bare(job: tuple[list[list[int]], list[int]]) -> int:
    batches, owners = job
    connections.close_all()
    done = 0
    with connection.cursor() as cursor:
        for batch in batches:
            cursor.execute(
                "UPDATE leads_lead SET owner_id = (%s::bigint[])[(id %% %s) + 1], "
                "updated_at = now() WHERE id = ANY(%s) AND owner_id IS NULL",
                [owners, len(owners), batch],
            )
            done += cursor.rowcount
    return done


def run(pool, fn, jobs) -> tuple[float, int]:
    started = time.perf_counter()
    done = sum(pool.map(fn, jobs))
    return time.perf_counter() - started, done


def evenness() -> int:
    """Max - min of leads per available rep without a capacity limit, worst team."""
    worst = 0
    for team in Team.objects.filter(name__startswith="Bench "):
        users = list(
            RepProfile.objects.filter(team=team, away=False, capacity__isnull=True).values_list(
                "user_id", flat=True
            )
        )
        counts = dict(
            Lead.objects.filter(email_key__startswith=PREFIX, owner_id__in=users)
            .values("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
        per_rep = [counts.get(user, 0) for user in users]
        worst = max(worst, max(per_rep) - min(per_rep))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.assign needs PostgreSQL (DATABASE_URL).")

    ids = set_up(args.leads)
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    shares = [batches[index :: args.processes] for index in range(args.processes)]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.processes) as pool:
        seconds, assigned = run(pool, _assign, shares)
        # Every batch again, each process starting elsewhere: a redelivered task.
        again_seconds, again = run(
            pool, _assign, [batches[index:] + batches[:index] for index in range(args.processes)]
        )
    mine = Lead.objects.filter(email_key__startswith=PREFIX)
    doubles = (
        Assignment.objects.filter(lead__in=mine)
        .values("lead")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    ) + (
        LeadChange.objects.filter(lead__in=mine, field="owner")
        .values("lead")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    unassigned = mine.filter(owner__isnull=True).count()
    spread = evenness()

    owners = list(
        RepProfile.objects.filter(team__name__startswith="Bench ").values_list("user_id", flat=True)
    )
    Notification.objects.filter(lead__in=mine).delete()
    Assignment.objects.filter(lead__in=mine).delete()
    LeadChange.objects.filter(lead__in=mine).delete()
    mine.update(owner=None)
    connections.close_all()
    with context.Pool(args.processes) as pool:
        bare_seconds, bare_done = run(pool, _bare, [(share, owners) for share in shares])

    print(
        f"\n{args.leads:,} new MQLs, {len(batches)} batches of {BATCH}, {args.processes} processes"
    )
    print(f"{'path':<44} {'leads/s':>9} {'seconds':>8}")
    for label, count, took in [
        ("leads_assign (rules, locks, history, SLA)", assigned, seconds),
        ("bare UPDATE … SET owner_id (baseline)", bare_done, bare_seconds),
    ]:
        print(f"{label:<44} {count / took:>9,.0f} {took:>8.2f}")
    print(
        f"assigned {assigned:,}; unassigned (capacity, away) {unassigned:,}; "
        f"evenness (max - min per rep) {spread}; double owners {doubles}; "
        f"assigned again by the redelivered pass {again} ({again_seconds:.2f} s)"
    )
    if doubles or again or spread > 1:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Rescoring every lead after a rule change, set-based, beside a per-lead ORM loop.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.rescore [--ledger N] [--sample 10000]

Needs data from ``bench.generate``. First it tops the ledger up to ``--ledger`` rows: more events
per lead (one INSERT … SELECT: e-mail clicks, downloads, webinar registrations, forms … on
distinct days, so each earns its rule's points) and their ledger rows derived by
``rescore_all`` (timed and printed, but not the figure). Then two rule changes, each saved the way
an admin saves one (``rescoring_start`` + the Celery task ``rescoring_run``, run eagerly in this
process):

- **grade change**: the grade B threshold 50 → 45 and the "director" rule 20 → 25 points: fit,
  grade, rank, temperature, MQL rule and review flags of every lead, no ledger row derived again
  and no score decayed (that is the nightly job's);
- **behaviour change**: "E-mail link clicked" 5 → 6 points: that rule's ledger rows derived again
  from the events, the scores of the leads that have such rows decayed again, then the same.

Then the nightly job ``scoring.tasks.leads_refresh_decay``: every lead's score decayed from every
ledger row, then fit to temperature, MQL rule and review flags, as a grade change with a decay
refresh of the whole ledger.

Goal: each under 30 s. The baseline, in the same run: the per-lead ORM loop a first version would
write (load the lead with its company and its ledger, evaluate the grade rules and the decay in
Python, save) over ``--sample`` leads, its time scaled to all leads. The peak resident memory of
this process is printed before and after each step: it must stay flat (no table in Python).
"""

import argparse
import logging
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from bench.generate import EXTRA_EVENT_KINDS, events_add, without_foreign_key_checks  # noqa: E402
from demo.rules import Scoring  # noqa: E402
from leadcrm.celery import app as celery_app  # noqa: E402
from leads.models import Event, Lead  # noqa: E402
from scoring import proposals  # noqa: E402
from scoring.models import Rescoring, ScoreEntry  # noqa: E402
from scoring.rescoring import leads_refresh_decay, rescore_all, rescoring_start  # noqa: E402
from scoring.services import active_profile  # noqa: E402

GOAL_S = 30.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}")
        return cursor.fetchone()[0]


def top_up(target: int) -> None:
    leads, ledger = _count(Lead), _count(ScoreEntry)
    per_lead = min(len(EXTRA_EVENT_KINDS) * 2, -(-(target - ledger) // leads)) if leads else 0
    print(f"leads: {leads:,}; ledger rows: {ledger:,}; target {target:,}")
    if per_lead <= 0:
        return
    started = time.perf_counter()
    inserted = events_add(per_lead)
    print(
        f"top-up: {inserted:,} events ({per_lead} per lead)"
        f" in {time.perf_counter() - started:.1f} s"
    )
    profile = active_profile()
    rules = [rule for rule in profile.behaviour_rules.all() if rule.event_kind in EXTRA_EVENT_KINDS]
    started = time.perf_counter()
    with without_foreign_key_checks():
        rescore_all(profile=profile, rebuild=rules)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Event._meta.db_table}, {ScoreEntry._meta.db_table}")
        cursor.execute(f"VACUUM (ANALYZE) {Lead._meta.db_table}")
    print(
        f"ledger derived for {len(rules)} rules: {_count(ScoreEntry):,} ledger rows"
        f" in {elapsed:.1f} s"
    )


class StatementTimes:
    """Seconds per kind of SQL statement run inside the block, in this process's connection and
    in every connection opened meanwhile (a save works two ranges at once, each in a connection
    of its own: ``LEADCRM_RESCORE_CONNECTIONS``): where the time of a step goes. Statements of
    connections working at once add up to more than the step took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            head = " ".join(sql.split())[:70]
            spent = time.perf_counter() - started
            with self.lock:
                self.seconds[head] = self.seconds.get(head, 0.0) + spent

    def report(self, total: float, top: int = 6) -> None:
        for head, seconds in sorted(self.seconds.items(), key=lambda item: -item[1])[:top]:
            print(f"    {seconds:>7.1f} s  {head}")
        statements = sum(self.seconds.values())
        if statements <= total:
            rest = total - statements
            print(f"    {rest:>7.1f} s  (commits with deferred foreign-key checks, Python)")
        else:
            print(f"    {statements:>7.1f} s  (all statements, in connections working at once)")


@contextmanager
def statement_times() -> Iterator[StatementTimes]:
    times = StatementTimes()

    def install(sender, connection, **kwargs) -> None:
        if times not in connection.execute_wrappers:
            connection.execute_wrappers.append(times)

    connection_created.connect(install)
    try:
        with connection.execute_wrapper(times):
            yield times
    finally:
        connection_created.disconnect(install)


def save_change(change) -> tuple[float, Rescoring]:
    """A change saved as the admin page saves it; returns seconds and the finished rescoring."""
    proposal = proposals.snapshot(active_profile())
    change(proposal)
    started = time.perf_counter()
    rescoring = rescoring_start(kind=Rescoring.Kind.APPLY, proposal=proposal, by_user=None)
    elapsed = time.perf_counter() - started
    rescoring.refresh_from_db()
    if rescoring.status != Rescoring.Status.DONE:
        raise SystemExit(f"rescoring {rescoring.pk} ended {rescoring.status}: {rescoring.error}")
    return elapsed, rescoring


# Each change toggles (a second run on the same database changes the values back), so every
# run does the same amount of work.
def grade_change(proposal: dict) -> None:
    proposal["profile"]["grade_b_min"] = 95 - proposal["profile"]["grade_b_min"]  # 50 ↔ 45
    for rule in proposal["grade_rules"]:
        if rule["field"] == "seniority" and rule["value"] == "director":
            rule["points"] = 45 - rule["points"]  # 20 ↔ 25


def behaviour_change(proposal: dict) -> None:
    for rule in proposal["behaviour_rules"]:
        if rule["name"] == "E-mail link clicked":
            rule["points"] = 11 - rule["points"]  # 5 ↔ 6


def orm_loop(sample: int) -> float:
    """Seconds for the naive per-lead loop over ``sample`` leads."""
    profile = active_profile()
    scoring = Scoring.load()
    half_life = profile.half_life_days
    now = datetime.now(UTC)
    hot, warm = set(profile.hot_ranks), set(profile.warm_ranks)
    bands = [(profile.band_1_min, 1), (profile.band_2_min, 2), (profile.band_3_min, 3)]
    started = time.perf_counter()
    for lead in Lead.objects.select_related("company", "score").order_by("id")[:sample]:
        company = lead.company
        points = scoring.fit_points(
            {
                "job_title": lead.job_title,
                "seniority": lead.seniority,
                "company__industry": company.industry if company else None,
                "company__size_band": company.size_band if company else None,
                "company__annual_revenue": company.annual_revenue if company else None,
                "country": lead.country,
                "city": lead.city,
                "age_band": lead.age_band,
            }
        )
        score = sum(
            entry.points * 0.5 ** ((now - entry.at).total_seconds() / 86400 / half_life)
            for entry in ScoreEntry.objects.filter(lead=lead)
        )
        grade = scoring.grade_for(points)
        band = next((b for threshold, b in bands if score >= threshold), 4)
        lead.grade, lead.rank = grade, f"{grade}{band}"
        lead.temperature = "hot" if lead.rank in hot else "warm" if lead.rank in warm else "cold"
        lead.score.fit_points, lead.score.behaviour_score = points, round(score, 2)
        lead.score.temperature = lead.temperature
        lead.score.save(update_fields=["fit_points", "behaviour_score", "temperature"])
        lead.save(update_fields=["grade", "rank", "temperature"])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=int, default=10_000_000, help="ledger rows (10M)")
    parser.add_argument("--sample", type=int, default=10_000)
    args = parser.parse_args(argv)
    celery_app.conf.task_always_eager = True  # the task runs here, inside rescoring_start
    # Not a log line per eager task (the webhook fan-out of every promoted lead).
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)

    top_up(args.ledger)
    leads, ledger = _count(Lead), _count(ScoreEntry)
    print(f"\nrescoring {leads:,} leads with {ledger:,} ledger rows (goal < {GOAL_S:.0f} s)")
    print(
        f"{'change':<20} {'seconds':>8} {'ranks moved':>12} {'promoted':>9} {'flagged':>8}"
        f" {'peak MiB before → after':>24}"
    )
    for name, change in (("grade change", grade_change), ("behaviour change", behaviour_change)):
        before = peak_mib()
        with statement_times() as times:
            seconds, rescoring = save_change(change)
        result = rescoring.result
        verdict = "ok" if seconds < GOAL_S else "MISSED"
        print(
            f"{name:<20} {seconds:>8.1f} {result['rank_changed']:>12,} {result['become_mql']:>9,}"
            f" {result['flagged']:>8,} {before:>14.0f} → {peak_mib():.0f}   {verdict}"
        )
        times.report(seconds)
    before = peak_mib()
    started = time.perf_counter()
    with statement_times() as times:
        result = leads_refresh_decay()
    seconds = time.perf_counter() - started
    verdict = "ok" if seconds < GOAL_S else "MISSED"
    print(
        f"{'nightly decay':<20} {seconds:>8.1f} {result['ranks_changed']:>12,}"
        f" {result['promoted']:>9,} {result['flagged']:>8,} {before:>14.0f} → {peak_mib():.0f}"
        f"   {verdict}"
    )
    times.report(seconds)
    sample = min(args.sample, leads)
    seconds = orm_loop(sample)
    scaled = seconds * leads / sample if sample else 0.0
    print(
        f"{'ORM loop baseline':<20} {scaled:>8.1f}   ({sample:,} leads in {seconds:.1f} s,"
        f" scaled to {leads:,})"
    )


if __name__ == "__main__":
    main()

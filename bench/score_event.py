"""Scoring arriving events one by one, against leads with long histories, beside bare inserts.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.score_event [--leads 100] [--history 300]
                                                                       [--events 2000]

Needs data from ``bench.generate``. Gives ``--leads`` leads a history of ``--history`` ledger rows
each (events and ledger rows written by SQL: e-mail opens a week apart, one point each), then
measures, in this process and without a broker, the incremental path the Celery task
``scoring.tasks.event_score`` runs for each new event: record the event, score it (ledger rows,
decayed score, fit, rank and temperature, MQL rule), ``--events`` events spread over those leads
and over the kinds with rules. Baseline in the same run: inserting the same number of bare event
rows one by one (``Event.objects.create``). Also prints the queries per scored event.
"""

import argparse
import os
import random
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from leads import event_services  # noqa: E402
from leads.models import Event, Lead  # noqa: E402
from scoring.models import ScoreEntry  # noqa: E402
from scoring.services import active_profile, event_score  # noqa: E402

KINDS = ["page_view", "pricing_page_view", "email_open", "email_click", "download", "form_submit"]


def give_histories(lead_ids: list[int], history: int) -> None:
    """``history`` e-mail opens a week apart per lead, with their ledger rows."""
    rule = active_profile().behaviour_rules.get(event_kind="email_open", pattern="")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH e AS (
                  INSERT INTO {Event._meta.db_table}
                    (lead_id, visitor_id, kind, url, asset, campaign_id, occurred_at, properties)
                  SELECT l, '', 'email_open', '', '', NULL,
                         now() - make_interval(days => 7 * (n + 1)), '{{}}'::jsonb
                  FROM unnest(%s::bigint[]) AS l CROSS JOIN generate_series(1, %s) AS n
                  RETURNING id, lead_id, occurred_at)
                INSERT INTO {ScoreEntry._meta.db_table} (lead_id, rule_id, event_id, points, at)
                SELECT lead_id, %s, id, 1, occurred_at FROM e""",
            [lead_ids, history, rule.pk],
        )
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {Event._meta.db_table}, {ScoreEntry._meta.db_table}")
    print(
        f"histories: {written:,} ledger rows for {len(lead_ids)} leads"
        f" in {time.perf_counter() - started:.1f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100)
    parser.add_argument("--history", type=int, default=300)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    lead_ids = list(
        Lead.objects.filter(stage__in=["unqualified", "nurture", "mql", "sql"])
        .order_by("-id")
        .values_list("id", flat=True)[: args.leads]
    )
    give_histories(lead_ids, args.history)
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=lead_ids)}
    plan = [(leads[rng.choice(lead_ids)], rng.choice(KINDS)) for _ in range(args.events)]

    started = time.perf_counter()
    for lead, kind in plan:
        Event.objects.create(lead=lead, kind=kind, url="https://www.leadcrm.example/bare")
    bare = time.perf_counter() - started

    scored_entries = 0
    started = time.perf_counter()
    for lead, kind in plan:
        event = event_services.event_record(
            lead=lead, kind=kind, url="https://www.leadcrm.example/pricing"
        )
        scored_entries += len(event_score(event_id=event.pk))
    scored = time.perf_counter() - started

    lead, kind = plan[0]
    event = event_services.event_record(lead=lead, kind="demo_request", occurred_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        event_score(event_id=event.pk)

    n = args.events
    print(f"\n{n:,} events on {len(lead_ids)} leads with {args.history}+ ledger rows each")
    print(f"{'path':<34} {'events/s':>9} {'ms/event':>9}")
    print(f"{'record + score (incremental)':<34} {n / scored:>9,.0f} {1000 * scored / n:>9.2f}")
    print(f"{'bare INSERT (Event.objects.create)':<34} {n / bare:>9,.0f} {1000 * bare / n:>9.2f}")
    print(f"ledger rows written: {scored_entries:,}; queries per scored event: {len(queries)}")


if __name__ == "__main__":
    main()

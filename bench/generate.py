"""Fill PostgreSQL with N benchmark leads, fast, through COPY.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.generate --leads 1000000 \\
        --events-per-lead 3 --seed 42 [--truncate]

The rows are the demo business's (``demo.generator``, the generator ``seed_demo`` uses): sales-rep
users, the demo campaigns with monthly costs, one company per ten leads, the leads with their stage
histories, ``--events-per-lead`` events each, opportunities, activities and consents, all with the
demo's shapes (funnel, channel mix, grades, business hours, towns and phone formats). Rows are
written with psycopg2's ``copy_expert`` from in-memory buffers, chunk by chunk, all in one
transaction; ids are assigned here (continuing after the highest existing id) so related rows can
point at their lead without a round trip. With ``--truncate`` the secondary indexes of the lead
tables are dropped first and rebuilt after the load, and rows are copied FREEZE (no VACUUM needed).
The same seed on an empty database gives the same rows. ANALYZE runs at the end.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from demo.content import DEMO_TLD  # noqa: E402
from demo.generator import Generator  # noqa: E402
from demo.rows import LeadRow  # noqa: E402
from demo.rules import MQL_RULE, Scoring  # noqa: E402
from leadcrm.roles import Role  # noqa: E402
from leads.models import (  # noqa: E402
    Activity,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Lead,
    LeadScore,
    Opportunity,
    StageTransition,
)
from reporting.rollup import rollup_refresh  # noqa: E402
from scoring.models import MqlReview, ScoreEntry  # noqa: E402
from scoring.rescoring import rescore_all  # noqa: E402
from scoring.services import active_profile  # noqa: E402

CHUNK = 50_000
BENCH_REP_PREFIX = "bench-rep-"
BENCH_MARKETER = "bench-marketer"
LEAD_COLUMNS = [
    "id",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "phone",
    "job_title",
    "seniority",
    "country",
    "city",
    "language",
    "age_band",
    "company_id",
    "stage",
    "stage_changed_at",
    "owner_id",
    "grade",
    "rank",
    "temperature",
    "source_channel",
    "first_campaign_id",
    "last_campaign_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "created_at",
    "updated_at",
]
TRANSITION_COLUMNS = ["lead_id", "from_stage", "to_stage", "at", "by_user_id", "by_rule", "reason"]
EVENT_COLUMNS = [
    "lead_id",
    "visitor_id",
    "kind",
    "url",
    "asset",
    "campaign_id",
    "occurred_at",
    "properties",
]
OPPORTUNITY_COLUMNS = [
    "lead_id",
    "owner_id",
    "name",
    "amount",
    "currency",
    "expected_margin",
    "probability",
    "expected_close_on",
    "status",
    "lost_reason",
    "closed_at",
    "created_at",
]
ACTIVITY_COLUMNS = [
    "lead_id",
    "author_id",
    "kind",
    "subject",
    "body",
    "due_at",
    "done_at",
    "created_at",
]
CONSENT_COLUMNS = [
    "lead_id",
    "purpose",
    "status",
    "source",
    "recorded_at",
    "ip_address",
    "confirmed_at",
]
SCORE_COLUMNS = ["lead_id", "fit_points", "behaviour_score", "temperature"]
LEAD_TABLES = [
    LeadScore,
    Event,
    StageTransition,
    Activity,
    Consent,
    Opportunity,
    Lead,
    Company,
    CampaignCost,
    Campaign,
]
# Tables whose secondary indexes are rebuilt after a load into truncated tables.
REBUILT = [Lead, LeadScore, StageTransition, Event, Activity, Consent, Opportunity]
NULL = "\\N"
# COPY's text format: a backslash, tab or line break inside a value must be escaped.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: lambda value: value.translate(_ESCAPES),
    type(None): lambda _value: NULL,
    datetime: datetime.isoformat,
    date: date.isoformat,
    int: str,
    float: str,
    Decimal: str,
}


def _value(value: Any) -> str:
    kind = type(value)
    if kind not in _FORMATS and isinstance(value, str):  # a choices enum member
        _FORMATS[kind] = _FORMATS[str]
    return _FORMATS[kind](value)


def _line(values: Iterable[Any]) -> str:
    return "\t".join(map(_value, values)) + "\n"


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _copy(
    cursor: Any, model: Any, columns: Sequence[str], buffer: io.StringIO, *, freeze: bool = False
) -> None:
    buffer.seek(0)
    options = " WITH (FREEZE)" if freeze else ""
    cursor.copy_expert(f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN{options}", buffer)


def _next_id(cursor: Any, model: Any) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_table(model)}")
    return cursor.fetchone()[0]


def _sync_sequence(cursor: Any, model: Any) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), MAX(id)) FROM {_table(model)} "
        "HAVING MAX(id) IS NOT NULL",
        [table],
    )


def _drop_indexes(cursor: Any, models: Sequence[Any]) -> list[str]:
    """Drop the indexes of ``models`` that back no constraint; returns how to create them again.

    Building an index once over the loaded table is several times faster than updating it row by
    row during COPY. Used only on tables truncated in this transaction.
    """
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [[model._meta.db_table for model in models]],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in found]


def _bench_users(reps: int) -> tuple[int, list[int]]:
    """The bench marketer and ``reps`` sales reps (created once; they cannot log in)."""
    user_model = get_user_model()
    password = make_password(None)
    names = [BENCH_MARKETER] + [f"{BENCH_REP_PREFIX}{n:02d}" for n in range(1, reps + 1)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    user_model.objects.bulk_create(
        [
            user_model(
                username=name,
                first_name="Bench",
                last_name=name.removeprefix("bench-").replace("-", " ").title(),
                email=f"{name}@leadcrm.{DEMO_TLD}",
                password=password,
            )
            for name in names
            if name not in existing
        ]
    )
    users = dict(user_model.objects.filter(username__in=names).values_list("username", "id"))
    membership = user_model.groups.through
    groups = dict(
        Group.objects.filter(name__in=[Role.MARKETER, Role.SALES_REP]).values_list("name", "id")
    )
    wanted = {(users[BENCH_MARKETER], groups[Role.MARKETER])} | {
        (users[name], groups[Role.SALES_REP]) for name in names[1:]
    }
    have = set(
        membership.objects.filter(user_id__in=users.values()).values_list("user_id", "group_id")
    )
    membership.objects.bulk_create(
        [membership(user_id=u, group_id=g) for u, g in sorted(wanted - have)]
    )
    return users[BENCH_MARKETER], [users[name] for name in names[1:]]


@contextlib.contextmanager
def without_foreign_key_checks() -> Iterator[None]:
    """For a superuser, no foreign-key triggers while the block writes: for scoring the loaded
    data, whose ledger rows point at the events, leads and rules they were derived from. Deferred
    checks of millions of ledger rows at each commit would take about as long as deriving them
    (measured: 17 s of 38 s for 218,000 rows). The rescorings the benches measure keep them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if superuser:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


# Extra events per lead: kinds whose scoring rules give points each time on distinct days.
EXTRA_EVENT_KINDS = [
    "email_click",
    "download",
    "webinar_registered",
    "form_submit",
    "webinar_attended",
    "email_open",
    "newsletter_signup",
]


def events_add(per_lead: int) -> int:
    """Give every lead ``per_lead`` more events in one INSERT … SELECT (kinds in turn from
    ``EXTRA_EVENT_KINDS``); event n of a lead lies 9 * n + (id mod 9) days back, so they fall on
    distinct days and cap periods. Returns the rows inserted."""
    if per_lead <= 0:
        return 0
    kinds = [(n, EXTRA_EVENT_KINDS[n % len(EXTRA_EVENT_KINDS)]) for n in range(per_lead)]
    values = ", ".join(f"({n}, '{kind}')" for n, kind in kinds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {_table(Event)}
                  (lead_id, visitor_id, kind, url, asset, campaign_id, occurred_at, properties)
                SELECT l.id, '', k.kind, 'https://www.leadcrm.example/blog', '', NULL,
                       now() - make_interval(days => (9 * k.n + l.id % 9)::int,
                                             hours => (l.id % 24)::int),
                       '{{}}'::jsonb
                FROM {_table(Lead)} l CROSS JOIN (VALUES {values}) AS k(n, kind)"""
        )
        return cursor.rowcount


class BenchWriter:
    """Writes ``demo.generator`` rows through COPY; maps their positions to database ids."""

    def __init__(self, *, seed: int, events_per_lead: int, reps: int, out: TextIO) -> None:
        self.seed = seed
        self.events_per_lead = events_per_lead
        self.reps = reps
        self.out = out
        self.counts: dict[str, int] = {}

    def run(self, *, leads: int, truncate: bool) -> dict[str, int]:
        # Rows copied into a table truncated in the same transaction can be written frozen and
        # all-visible: no VACUUM needed for index-only scans afterwards.
        self.freeze = truncate and not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if truncate:
                tables = ", ".join(_table(model) for model in LEAD_TABLES)
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Every foreign key points at a row written just before; skipping the per-row
                # trigger checks roughly halves the time COPY takes.
                cursor.execute("SET LOCAL session_replication_role = replica")
            self.marketer_id, self.rep_ids = _bench_users(self.reps)
            started = time.perf_counter()
            self.generator = Generator(
                seed=self.seed,
                reps=len(self.rep_ids),
                scoring=Scoring.load(),
                taken_domains=Company.objects.exclude(domain="").values_list("domain", flat=True),
                taken_emails=Lead.objects.values_list("email_key", flat=True),
            )
            self.out.write(f"generator ready in {time.perf_counter() - started:.1f} s\n")
            self._campaigns(cursor)
            self._companies(cursor, max(1, leads // 10))
            indexes = _drop_indexes(cursor, REBUILT) if self.freeze else []
            self._leads(cursor, leads)
            started = time.perf_counter()
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for definition in indexes:
                cursor.execute(definition)
            if indexes:
                self.out.write(
                    f"rebuilt {len(indexes)} indexes in {time.perf_counter() - started:.1f} s\n"
                )
            for model in LEAD_TABLES:
                if model is not LeadScore:  # keyed by its lead, no sequence of its own
                    _sync_sequence(cursor, model)
        started = time.perf_counter()
        profile = active_profile()
        with without_foreign_key_checks():
            outcome = rescore_all(profile=profile, rebuild=list(profile.behaviour_rules.all()))
        self.counts["score entries"] = ScoreEntry.objects.count()
        self.out.write(
            f"scored {outcome.leads:,} leads by their events ({self.counts['score entries']:,}"
            f" ledger rows, {outcome.become_mql:,} promoted) in"
            f" {time.perf_counter() - started:.1f} s\n"
        )
        with connection.cursor() as cursor:
            tables = ", ".join(_table(model) for model in [*LEAD_TABLES, ScoreEntry, MqlReview])
            # VACUUM also sets the visibility map, so counts can use index-only scans, as they do
            # on a live database once autovacuum has passed: COPY FREEZE set it, but scoring has
            # just rewritten the leads it graded, which clears it page by page (capped counts of
            # broad filters then read 10,001 heap rows). It cannot run inside a transaction (as
            # in the tests), where a plain ANALYZE does.
            vacuum = "VACUUM (ANALYZE)" if connection.get_autocommit() else "ANALYZE"
            cursor.execute(f"{vacuum} {tables}")
        return self.counts

    def _campaigns(self, cursor: Any) -> None:
        """The demo campaigns, once: a second run without --truncate reuses them."""
        rows = self.generator.campaigns()
        existing = dict(
            Campaign.objects.filter(name__in=[row.name for row in rows]).values_list("name", "id")
        )
        next_id = _next_id(cursor, Campaign)
        self.campaign_ids, campaigns = [], io.StringIO()
        for row in rows:
            if row.name in existing:
                self.campaign_ids.append(existing[row.name])
                continue
            self.campaign_ids.append(next_id)
            values = (next_id, row.name, row.channel, row.direction, row.starts_on, row.ends_on)
            campaigns.write(_line((*values, row.created_at)))
            next_id += 1
        costs = io.StringIO()
        cost_rows = [
            cost for cost in self.generator.costs() if rows[cost.campaign].name not in existing
        ]
        for cost in cost_rows:
            costs.write(
                _line(
                    (
                        self.campaign_ids[cost.campaign],
                        cost.incurred_on,
                        cost.amount,
                        "EUR",
                        cost.note,
                    )
                )
            )
        columns = ["id", "name", "channel", "direction", "starts_on", "ends_on", "created_at"]
        _copy(cursor, Campaign, columns, campaigns)
        columns = ["campaign_id", "incurred_on", "amount", "currency", "note"]
        _copy(cursor, CampaignCost, columns, costs)
        self.counts["campaigns"] = len(rows) - len(existing)
        self.counts["campaign costs"] = len(cost_rows)

    def _companies(self, cursor: Any, count: int) -> None:
        started = time.perf_counter()
        self.first_company_id = _next_id(cursor, Company)
        buffer = io.StringIO()
        for company_id, row in enumerate(self.generator.companies(count), self.first_company_id):
            buffer.write(
                _line(
                    (
                        company_id,
                        row.name,
                        row.domain,
                        row.industry,
                        row.size_band,
                        row.annual_revenue,
                        row.revenue_currency,
                        row.created_at,
                    )
                )
            )
        columns = ["id", "name", "domain", "industry", "size_band", "annual_revenue"]
        _copy(cursor, Company, [*columns, "revenue_currency", "created_at"], buffer)
        self._report("companies", count, started)

    def _leads(self, cursor: Any, count: int) -> None:
        started = time.perf_counter()
        names = [
            "leads",
            "scores",
            "stage transitions",
            "events",
            "opportunities",
            "activities",
            "consents",
        ]
        totals = dict.fromkeys(names, 0)
        next_id = _next_id(cursor, Lead)
        rows = self.generator.leads(count, events_per_lead=self.events_per_lead)
        done = 0
        while done < count:
            size = min(CHUNK, count - done)
            buffers = {name: io.StringIO() for name in names}
            for lead_id in range(next_id, next_id + size):
                self._lead(lead_id, next(rows), buffers, totals)
            for name, model, columns in [
                ("leads", Lead, LEAD_COLUMNS),
                ("scores", LeadScore, SCORE_COLUMNS),
                ("stage transitions", StageTransition, TRANSITION_COLUMNS),
                ("events", Event, EVENT_COLUMNS),
                ("opportunities", Opportunity, OPPORTUNITY_COLUMNS),
                ("activities", Activity, ACTIVITY_COLUMNS),
                ("consents", Consent, CONSENT_COLUMNS),
            ]:
                _copy(cursor, model, columns, buffers[name], freeze=self.freeze)
            next_id += size
            done += size
            self.out.write(f"  {done:>10,} leads written\n")
            self.out.flush()
        self.counts |= totals
        elapsed = time.perf_counter() - started
        total = sum(totals.values())
        self.out.write(
            f"leads and their rows: {total:,} rows in {elapsed:.1f} s "
            f"({total / elapsed:,.0f} rows/s)\n"
        )

    def _lead(
        self, lead_id: int, row: LeadRow, buffers: dict[str, io.StringIO], totals: dict[str, int]
    ) -> None:
        owner = None if row.owner is None else self.rep_ids[row.owner]
        campaign_ids = self.campaign_ids
        buffers["leads"].write(
            _line(
                (
                    lead_id,
                    row.email,
                    row.email_key,
                    row.first_name,
                    row.last_name,
                    row.phone,
                    row.job_title,
                    row.seniority,
                    row.country,
                    row.city,
                    row.language,
                    "",
                    None if row.company is None else self.first_company_id + row.company,
                    row.stage,
                    row.stage_changed_at,
                    owner,
                    row.grade,
                    row.rank,
                    row.temperature,
                    row.source_channel,
                    None if row.first_campaign is None else campaign_ids[row.first_campaign],
                    None if row.last_campaign is None else campaign_ids[row.last_campaign],
                    row.utm_source,
                    row.utm_medium,
                    row.utm_campaign,
                    row.utm_term,
                    row.utm_content,
                    row.created_at,
                    row.stage_changed_at,
                )
            )
        )
        transitions = buffers["stage transitions"]
        for step in row.transitions:
            by_user = {"rule": None, "marketer": self.marketer_id, "owner": owner}[step.actor]
            by_rule = MQL_RULE if step.actor == "rule" else ""
            transitions.write(
                _line(
                    (
                        lead_id,
                        step.from_stage,
                        step.to_stage,
                        step.at,
                        by_user,
                        by_rule,
                        step.reason,
                    )
                )
            )
        events = buffers["events"]
        for event in row.events:
            campaign = None if event.campaign is None else campaign_ids[event.campaign]
            properties = json.dumps(event.properties, ensure_ascii=False)
            events.write(
                _line(
                    (
                        lead_id,
                        "",
                        event.kind,
                        event.url,
                        event.asset,
                        campaign,
                        event.occurred_at,
                        properties,
                    )
                )
            )
        if (opp := row.opportunity) is not None:
            buffers["opportunities"].write(
                _line(
                    (
                        lead_id,
                        owner,
                        opp.name,
                        opp.amount,
                        opp.currency,
                        opp.expected_margin,
                        opp.probability,
                        opp.expected_close_on,
                        opp.status,
                        opp.lost_reason,
                        opp.closed_at,
                        opp.created_at,
                    )
                )
            )
            totals["opportunities"] += 1
        activities = buffers["activities"]
        for act in row.activities:
            activities.write(
                _line(
                    (
                        lead_id,
                        owner,
                        act.kind,
                        act.subject,
                        act.body,
                        act.due_at,
                        act.done_at,
                        act.created_at,
                    )
                )
            )
        consents = buffers["consents"]
        for consent in row.consents:
            consents.write(
                _line(
                    (
                        lead_id,
                        consent.purpose,
                        consent.status,
                        consent.source,
                        consent.recorded_at,
                        consent.ip_address,
                        consent.confirmed_at,
                    )
                )
            )
        buffers["scores"].write(
            _line((lead_id, row.fit_points, row.behaviour_score, row.temperature))
        )
        totals["leads"] += 1
        totals["scores"] += 1
        totals["stage transitions"] += len(row.transitions)
        totals["events"] += len(row.events)
        totals["activities"] += len(row.activities)
        totals["consents"] += len(row.consents)

    def _report(self, name: str, rows: int, started: float) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        self.counts[name] = rows
        self.out.write(f"{name}: {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)\n")


def generate(
    *,
    leads: int,
    events_per_lead: int = 3,
    seed: int = 42,
    truncate: bool = False,
    reps: int = 20,
    out: TextIO = sys.stdout,
) -> dict[str, int]:
    """Write the benchmark data on Django's default connection (PostgreSQL); returns row counts."""
    if connection.vendor != "postgresql":
        raise SystemExit("bench.generate needs PostgreSQL: set DATABASE_URL")
    writer = BenchWriter(seed=seed, events_per_lead=events_per_lead, reps=reps, out=out)
    return writer.run(leads=leads, truncate=truncate)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events-per-lead", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=20, help="Sales reps owning the leads (20).")
    parser.add_argument("--truncate", action="store_true", help="Delete all lead data first.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(
        leads=args.leads,
        events_per_lead=args.events_per_lead,
        seed=args.seed,
        truncate=args.truncate,
        reps=args.reps,
    )
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    for name, rows in counts.items():
        print(f"{name:<18} {rows:>12,}")
    print(f"total: {total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s), ANALYZE done")
    # The reports read a rollup: rebuild it for the new data.
    result = rollup_refresh(full=True)
    print(f"report rollup: {result.days:,} days rebuilt in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()

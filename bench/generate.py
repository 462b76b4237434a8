"""Fill PostgreSQL with N benchmark leads, fast, through COPY.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.generate --leads 1000000 \\
        --events-per-lead 3 --seed 42 [--truncate]

Makes sales-rep users, campaigns with monthly costs, one company per ten leads, the leads in the
demo's funnel mix (see ``leads/management/commands/seed_demo.py``), each lead's stage history along
the allowed moves, and ``--events-per-lead`` events per lead. Rows are written with
psycopg2's ``copy_expert`` from in-memory buffers, chunk by chunk, all in one transaction; ids are
assigned here (continuing after the highest existing id) so histories and events can point at their
lead without a round trip. With ``--truncate`` the secondary indexes of leads, transitions and
events are dropped first and rebuilt after the load, and rows are copied FREEZE (no VACUUM needed).
The same seed on an empty database gives the same rows. ANALYZE runs at the end.
"""

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from faker import Faker  # noqa: E402

from leadcrm.roles import Role  # noqa: E402
from leads.lifecycle import Stage  # noqa: E402
from leads.management.commands.seed_demo import (  # noqa: E402
    _UTM,
    DEMO_TLD,
    INDUSTRIES,
    MQL_RULE,
    _ascii_slug,
    anchor_now,
    pick_stage,
    scores_for,
    stage_path,
    step_actor,
    step_reason,
)
from leads.models import (  # noqa: E402
    Activity,
    Campaign,
    CampaignCost,
    Channel,
    Company,
    CompanySize,
    Consent,
    Event,
    EventKind,
    Lead,
    Opportunity,
    StageTransition,
)

CHUNK = 50_000
CAMPAIGNS = 40
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
    "fit_points",
    "behaviour_score",
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
# Leads before sales touched them browse and read mail; worked leads look at prices.
EVENT_KINDS = [
    EventKind.PAGE_VIEW,
    EventKind.PRICING_PAGE_VIEW,
    EventKind.DOWNLOAD,
    EventKind.WEBINAR_REGISTERED,
    EventKind.WEBINAR_ATTENDED,
    EventKind.EMAIL_OPEN,
    EventKind.EMAIL_CLICK,
    EventKind.FORM_SUBMIT,
    EventKind.DEMO_REQUEST,
]
EVENT_WEIGHTS = [40, 6, 6, 3, 2, 25, 8, 3, 1]
EVENT_CUM_WEIGHTS = [sum(EVENT_WEIGHTS[: i + 1]) for i in range(len(EVENT_WEIGHTS))]
JOBS = ["Marketing Manager", "Head of Marketing", "CEO", "Geschäftsführer", "Einkäufer", "VP Sales"]
CITIES = ["Berlin", "München", "Hamburg", "Köln", "Wien", "Zürich", "London", "New York", "Austin"]
COUNTRIES = ["DE", "DE", "DE", "AT", "CH", "US", "US", "GB"]
LEAD_TABLES = [
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
NULL = "\\N"


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Timestamps:
    """Formats whole seconds since the epoch as PostgreSQL timestamptz text, fast."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.fromtimestamp(day * 86400, tz=UTC).strftime(
                "%Y-%m-%d"
            )
        return f"{text} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}+00"


def _copy(
    cursor: Any, model: Any, columns: Sequence[str], buffer: io.StringIO, *, freeze: bool = False
) -> None:
    buffer.seek(0)
    options = " WITH (FREEZE)" if freeze else ""
    cursor.copy_expert(f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN{options}", buffer)


def _rows_buffer(rows: Iterable[Sequence[Any]]) -> io.StringIO:
    buffer = io.StringIO()
    buffer.writelines(
        "\t".join(NULL if value is None else str(value) for value in row) + "\n" for row in rows
    )
    return buffer


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


class Generator:
    def __init__(self, *, seed: int, events_per_lead: int, out: TextIO) -> None:
        self.rng = random.Random(seed)
        self.events_per_lead = events_per_lead
        self.out = out
        self.now = int(anchor_now().timestamp())
        self.ts = Timestamps()
        self.counts: dict[str, int] = {}
        fake = Faker(["de_DE", "en_US"])
        fake.seed_instance(seed)
        self.first_names = sorted({fake.first_name() for _ in range(600)})
        self.last_names = sorted({fake.last_name() for _ in range(900)})
        self.slugs = {n: _ascii_slug(n, sep=".") or "x" for n in self.first_names + self.last_names}

    def run(self, *, leads: int, truncate: bool, reps: int) -> dict[str, int]:
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
            self.marketer_id, self.rep_ids = _bench_users(reps)
            self._campaigns(cursor)
            self._companies(cursor, max(1, leads // 10))
            indexes = _drop_indexes(cursor, [Lead, StageTransition, Event]) if self.freeze else []
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
                _sync_sequence(cursor, model)
        with connection.cursor() as cursor:
            tables = ", ".join(_table(model) for model in LEAD_TABLES)
            # VACUUM also sets the visibility map, so counts can use index-only scans; it cannot
            # run inside a transaction (as in the tests), where a plain ANALYZE does.
            vacuum = (
                "VACUUM (ANALYZE)" if connection.get_autocommit() and not self.freeze else "ANALYZE"
            )
            cursor.execute(f"{vacuum} {tables}")
        return self.counts

    def _campaigns(self, cursor: Any) -> None:
        rng, today = self.rng, anchor_now().date()
        first_id = _next_id(cursor, Campaign)
        channels = [c for c in Channel.values if c not in (Channel.DIRECT, Channel.OTHER)]
        outbound = {Channel.COLD_EMAIL, Channel.COLD_CALL, Channel.PURCHASED_LIST}
        campaigns, costs = [], []
        for n in range(CAMPAIGNS):
            campaign_id, channel = first_id + n, channels[n % len(channels)]
            starts_on = today - timedelta(days=rng.randint(30, 400))
            ends_on = starts_on + timedelta(days=rng.randint(1, 180)) if n % 3 else None
            created = self.ts(int(datetime(*starts_on.timetuple()[:3], tzinfo=UTC).timestamp()))
            name = f"Bench {Channel(channel).label} {campaign_id}"
            direction = "outbound" if channel in outbound else "inbound"
            campaigns.append((campaign_id, name, channel, direction, starts_on, ends_on, created))
            day = starts_on
            while day <= min(ends_on or today, today):
                costs.append((campaign_id, day, f"{rng.uniform(200, 20000):.2f}", "EUR", ""))
                day += timedelta(days=30)
        _copy(
            cursor,
            Campaign,
            ["id", "name", "channel", "direction", "starts_on", "ends_on", "created_at"],
            _rows_buffer(campaigns),
        )
        _copy(
            cursor,
            CampaignCost,
            ["campaign_id", "incurred_on", "amount", "currency", "note"],
            _rows_buffer(costs),
        )
        self.campaigns = [(row[0], row[1], row[2]) for row in campaigns]
        self.counts["campaigns"] = len(campaigns)
        self.counts["campaign costs"] = len(costs)

    def _companies(self, cursor: Any, count: int) -> None:
        rng, started = self.rng, time.perf_counter()
        first_id = _next_id(cursor, Company)
        sizes = [s for s in CompanySize.values if s]
        legal = ["GmbH", "AG", "GmbH & Co. KG", "SE", "Inc.", "Ltd", "LLC"]
        rows = []
        for company_id in range(first_id, first_id + count):
            base = rng.choice(self.last_names)
            industry = rng.choice(INDUSTRIES)
            name = f"{base} {industry.label} {rng.choice(legal)} {company_id}"
            revenue = f"{rng.randrange(200_000, 2_000_000_000, 1000)}.00"
            rows.append(
                (
                    company_id,
                    name,
                    f"{self.slugs[base]}-{company_id}.{DEMO_TLD}",
                    industry,
                    rng.choice(sizes),
                    revenue if rng.random() < 0.8 else None,
                    "EUR",
                    self.ts(self.now - rng.randint(400 * 86400, 900 * 86400)),
                )
            )
        columns = ["id", "name", "domain", "industry", "size_band", "annual_revenue"]
        _copy(cursor, Company, [*columns, "revenue_currency", "created_at"], _rows_buffer(rows))
        self.company_ids = (first_id, first_id + count - 1)
        self._report("companies", count, started)

    def _leads(self, cursor: Any, count: int) -> None:
        started = time.perf_counter()
        totals = {"leads": 0, "stage transitions": 0, "events": 0}
        next_id = _next_id(cursor, Lead)
        done = 0
        while done < count:
            size = min(CHUNK, count - done)
            leads, transitions, events = io.StringIO(), io.StringIO(), io.StringIO()
            for lead_id in range(next_id, next_id + size):
                totals["stage transitions"] += self._lead(lead_id, leads, transitions, events)
            _copy(cursor, Lead, LEAD_COLUMNS, leads, freeze=self.freeze)
            _copy(cursor, StageTransition, TRANSITION_COLUMNS, transitions, freeze=self.freeze)
            _copy(cursor, Event, EVENT_COLUMNS, events, freeze=self.freeze)
            next_id += size
            done += size
            self.out.write(f"  {done:>10,} leads written\n")
            self.out.flush()
        totals["leads"] = count
        totals["events"] = count * self.events_per_lead
        for name, rows in totals.items():
            self.counts[name] = rows
        elapsed = time.perf_counter() - started
        rows = sum(totals.values())
        self.out.write(
            f"leads, stage transitions, events: {rows:,} rows in {elapsed:.1f} s "
            f"({rows / elapsed:,.0f} rows/s)\n"
        )

    def _lead(self, lead_id: int, leads: TextIO, transitions: TextIO, events: TextIO) -> int:
        rng, ts, now = self.rng, self.ts, self.now
        stage = pick_stage(rng)
        path = stage_path(rng, stage)
        created = now - rng.randint(3600, 365 * 86400)
        last = now - 300
        offsets = sorted(rng.randint(created + 1, last) for _ in range(len(path) - 1))
        times = [created]
        for moment in offsets:
            times.append(max(moment, times[-1] + 1))
        if Stage.SQL in path or (stage == Stage.MQL and rng.random() < 0.5):
            owner: int | None = rng.choice(self.rep_ids)
        else:
            owner = None
        first = rng.choice(self.first_names)
        last_name = rng.choice(self.last_names)
        low, high = self.company_ids
        company = rng.randint(low, high) if rng.random() < 0.9 else None
        domain = f"c{company}.{DEMO_TLD}" if company else f"mail.{DEMO_TLD}"
        campaign = rng.choice(self.campaigns) if rng.random() < 0.85 else None
        if campaign is not None:
            campaign_id, campaign_name, channel = campaign
            utm_source, utm_medium = _UTM.get(channel, ("", ""))
            utm_campaign = _ascii_slug(campaign_name) if utm_source else ""
        else:
            campaign_id, channel = None, Channel.DIRECT
            utm_source = utm_medium = utm_campaign = ""
        scores = scores_for(rng, stage)
        changed = ts(times[-1])
        leads.write(
            "\t".join(
                (
                    str(lead_id),
                    f"{self.slugs[first]}.{self.slugs[last_name]}.{lead_id}@{domain}",
                    f"{self.slugs[first]}.{self.slugs[last_name]}.{lead_id}@{domain}",
                    first,
                    last_name,
                    "",
                    rng.choice(JOBS),
                    "",
                    rng.choice(COUNTRIES),
                    rng.choice(CITIES),
                    "de" if rng.random() < 0.6 else "en",
                    "",
                    NULL if company is None else str(company),
                    stage,
                    changed,
                    NULL if owner is None else str(owner),
                    scores.grade,
                    str(scores.fit_points),
                    str(scores.behaviour_score),
                    scores.rank,
                    scores.temperature,
                    channel,
                    NULL if campaign_id is None else str(campaign_id),
                    NULL if campaign_id is None else str(campaign_id),
                    utm_source,
                    utm_medium,
                    utm_campaign,
                    "",
                    "",
                    ts(created),
                    changed,
                )
            )
            + "\n"
        )
        previous = ""
        for step, at in zip(path, times, strict=True):
            actor = step_actor(previous, step)
            if actor == MQL_RULE:
                by_user, by_rule = NULL, MQL_RULE
            elif actor == "marketing":
                by_user, by_rule = str(self.marketer_id), ""
            else:
                by_user, by_rule = str(owner or rng.choice(self.rep_ids)), ""
            reason = step_reason(rng, previous, step)
            transitions.write(
                f"{lead_id}\t{previous}\t{step}\t{ts(at)}\t{by_user}\t{by_rule}\t{reason}\n"
            )
            previous = step
        campaign_text = NULL if campaign_id is None else str(campaign_id)
        for _ in range(self.events_per_lead):
            kind = rng.choices(EVENT_KINDS, cum_weights=EVENT_CUM_WEIGHTS)[0]
            at = ts(rng.randint(created, now))
            url = f"https://www.leadcrm.{DEMO_TLD}/{kind.replace('_', '-')}"
            events.write(f"{lead_id}\t\t{kind}\t{url}\t\t{campaign_text}\t{at}\t{{}}\n")
        return len(path)

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
    generator = Generator(seed=seed, events_per_lead=events_per_lead, out=out)
    return generator.run(leads=leads, truncate=truncate, reps=reps)


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


if __name__ == "__main__":
    main()

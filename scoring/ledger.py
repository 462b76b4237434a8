"""The ledger and the behaviour scores of many leads at once (a rule change, the nightly decay):
ledger rows derived again from the events or given new points in place, scores summed again,
moved by what changed or decayed, one range of lead ids at a time."""

from datetime import datetime

from django.db import connection
from django.db.models import FloatField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from leads.models import Event, Lead, LeadScore
from scoring.models import BehaviourRule, ScoreEntry
from scoring.services import _age_in_days_sql, _decayed_sum_sql, _like_pattern

# The leads whose ledger a range's rebuild changed (temporary, per connection).
TOUCHED_TABLE = "scoring_touched"
# The ledger rows a range's rebuild derives, before they are reconciled with the ledger.
DERIVED_TABLE = "scoring_derived"
# The ledger rows a range's repoint changes: id, lead_id, at, points_before, points (temporary).
REPOINTED_TABLE = "scoring_repointed"
# The scores a range's repoint moves: lead_id, score_before, score (temporary).
MOVED_TABLE = "scoring_moved"


def decayed_score_of_lead(*, half_life_days: int, now: datetime, every_lead: bool) -> RawSQL:
    """The decayed ledger sum of each lead of a lead queryset (0 without a ledger); unless
    ``every_lead``, only for the leads in TOUCHED_TABLE, the others keep their stored score."""
    expression, params = _decayed_sum_sql(half_life_days=half_life_days, now=now)
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    leads = connection.ops.quote_name(Lead._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    decayed = f'(SELECT COALESCE({expression}, 0) FROM {ledger} WHERE "lead_id" = {leads}."id")'
    if not every_lead:
        stored = f'(SELECT "behaviour_score" FROM {scores} WHERE "lead_id" = {leads}."id")'
        decayed = (
            f'CASE WHEN {leads}."id" IN (SELECT lead_id FROM {TOUCHED_TABLE})'
            f" THEN {decayed} ELSE {stored} END"
        )
    return RawSQL(decayed, params, output_field=FloatField())


def refresh_behaviour_scores(
    *,
    lead_range: tuple[int, int],
    half_life_days: int,
    now: datetime | None = None,
    every_lead: bool = True,
) -> None:
    """Write the decayed ledger sum into ``LeadScore.behaviour_score`` for the leads with
    lo <= id < hi (unless ``every_lead``, only those in TOUCHED_TABLE); leads without a ledger
    go to 0."""
    now = now or timezone.now()
    if not every_lead and connection.vendor == "postgresql":
        _move_touched_scores(lead_range=lead_range, half_life_days=half_life_days, now=now)
        return
    expression, params = _decayed_sum_sql(half_life_days=half_life_days, now=now)
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    table = connection.ops.quote_name(LeadScore._meta.db_table)
    lo, hi = lead_range
    touched = "" if every_lead else f" AND {{id}} IN (SELECT lead_id FROM {TOUCHED_TABLE})"
    # One pass: the range's leads left-joined to their ledger sums, so a lead whose ledger is
    # gone drops to 0 in the same UPDATE.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET "behaviour_score" = s."score", "scored_at" = %s
                FROM (SELECT l."lead_id", COALESCE(sums."score", 0) AS "score"
                      FROM {table} l LEFT JOIN (
                        SELECT "lead_id", {expression} AS "score" FROM {ledger}
                        WHERE "lead_id" >= %s AND "lead_id" < %s{touched.format(id='"lead_id"')}
                        GROUP BY "lead_id") AS sums ON sums."lead_id" = l."lead_id"
                      WHERE l."lead_id" >= %s AND l."lead_id" < %s
                            {touched.format(id='l."lead_id"')}) AS s
                WHERE {table}."lead_id" = s."lead_id"
                  AND ({table}."behaviour_score" <> s."score" OR {table}."scored_at" <> %s)
            """,
            [now, *params, lo, hi, lo, hi, now],
        )


def _move_touched_scores(
    *, lead_range: tuple[int, int], half_life_days: int, now: datetime
) -> None:
    """The scores of the leads in TOUCHED_TABLE (leads lo <= id < hi) decayed to now, plus what
    their changed ledger rows add now (the deltas ledger_rebuild recorded): the sum of their new
    ledger. The range bounds the score table's side to an index range: without them the planner
    hashes the touched leads and reads the whole score table, once per range."""
    age_days, params = _age_in_days_sql('"scored_at"', now)
    table = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table}
                SET "behaviour_score" = "behaviour_score" * POWER(0.5, ({age_days}) / %s)
                                        + t.delta,
                    "scored_at" = %s
                FROM (SELECT lead_id, SUM(delta) AS delta FROM {TOUCHED_TABLE}
                      GROUP BY lead_id) AS t
                WHERE {table}."lead_id" = t.lead_id
                  AND {table}."lead_id" >= %s AND {table}."lead_id" < %s""",
            [*params, float(half_life_days), now, *lead_range],
        )


def decay_stored_scores(*, lead_range: tuple[int, int], half_life_days: int, now: datetime):
    """Decay the stored scores of the leads with lo <= id < hi from their scored_at to ``now``:
    Σ p·0.5^((now - at)/h) = 0.5^((now - scored_at)/h) · Σ p·0.5^((scored_at - at)/h), so one
    multiplication per lead gives what summing its whole ledger again would."""
    age_days, params = _age_in_days_sql('"scored_at"', now)
    table = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table}
                SET "behaviour_score" = "behaviour_score" * POWER(0.5, ({age_days}) / %s),
                    "scored_at" = %s
                WHERE "lead_id" >= %s AND "lead_id" < %s AND "behaviour_score" <> 0
                  AND "scored_at" < %s""",
            [*params, float(half_life_days), now, *lead_range, now],
        )


def _day_number_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return (
            f"CAST(FLOOR(EXTRACT(EPOCH FROM ({column} - TIMESTAMPTZ '2001-01-01 00:00:00+00'))"
            f" / 86400) AS INTEGER)"
        )
    return f"CAST(julianday({column}) - julianday('2001-01-01') AS INTEGER)"


def ledger_repoint(
    *,
    rules: list[BehaviourRule],
    lead_range: tuple[int, int],
    half_life_days: int,
    now: datetime,
    adjust_scores: bool,
    moved_kept: tuple[str, list] | None = None,
) -> None:
    """The ledger rows of ``rules`` (leads lo <= id < hi) take their rule's new points in place
    (proposals.Written.repoint: the same rows, other points); under a cap, a row's points are
    clipped by its place in its period, as the derivation clips them, and a row that now gives
    nothing is deleted. Unless every score is summed again afterwards (``adjust_scores``
    false), each lead with a changed row has its stored score moved by what its rows gained:
    the stored score decayed to now, plus Σ (new - old points) · 0.5^(age / half-life) over
    those rows; exactly the sum of the changed ledger, without reading the lead's other rows.
    A lead whose rows' changes add up to 0 now keeps its score row as it is. The moved scores,
    as they were and are, are left in MOVED_TABLE (for ``narrowing.record_repointed``); on
    PostgreSQL only those that meet ``moved_kept`` (SQL on score_before and score), if given."""
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    repointed_sql, repointed_params = _repointed_sql(rules, lead_range, with_ctid=postgresql)
    hl = float(half_life_days)
    stored_age, stored_params = _age_in_days_sql('s."scored_at"', now)
    entry_age, entry_params = _age_in_days_sql("r.at", now)
    # The moved scores of the range, from the changed rows (r): as stored, and decayed to now
    # plus the rows' decayed differences. The range bounds the score table to an index range
    # (without it the planner reads the whole table, once per range).
    moved_sql = f"""SELECT s."lead_id" AS lead_id, s."behaviour_score" AS score_before,
                           s."behaviour_score" * POWER(0.5, ({stored_age}) / %s) + d.delta
                           AS score
                    FROM {scores} s JOIN (
                      SELECT r.lead_id, SUM((r.points - r.points_before)
                                            * POWER(0.5, ({entry_age}) / %s)) AS delta
                      FROM {{changed}} r GROUP BY r.lead_id) d ON d.lead_id = s."lead_id"
                    WHERE s."lead_id" >= %s AND s."lead_id" < %s AND d.delta <> 0"""
    moved_params = [*stored_params, hl, *entry_params, hl, *lead_range]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REPOINTED_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {MOVED_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {MOVED_TABLE}"
            " (lead_id BIGINT, score_before FLOAT, score FLOAT)"
        )
        if postgresql:
            kept, kept_params = moved_kept or ("1 = 1", [])
            # One statement: the changed rows are found once (w), written by their physical
            # address (ctid: no index lookup per row), and the scores moved from them. ctid is
            # safe here: nothing else updates ledger rows (``event_score`` only inserts, for a
            # lead it has locked; rescorings run one at a time under FIT_LOCK), and a row
            # deleted meanwhile (its lead deleted) is skipped, as it should be.
            moves = f"""
                , moved AS (
                  UPDATE {scores} SET "behaviour_score" = m.score, "scored_at" = %s
                  FROM ({moved_sql.format(changed="w")}) m
                  WHERE {scores}."lead_id" = m.lead_id
                    AND {scores}."lead_id" >= %s AND {scores}."lead_id" < %s
                  RETURNING m.lead_id, m.score_before, m.score)
                INSERT INTO {MOVED_TABLE} SELECT lead_id, score_before, score FROM moved
                WHERE {kept}"""
            cursor.execute(
                f"""WITH w AS MATERIALIZED ({repointed_sql}),
                    updated AS (
                      UPDATE {ledger} SET "points" = w.points FROM w
                      WHERE {ledger}.ctid = w.tid AND w.points <> 0),
                    deleted AS (
                      DELETE FROM {ledger} USING w WHERE {ledger}.ctid = w.tid AND w.points = 0)
                    {moves if adjust_scores else "SELECT COUNT(*) FROM w"}""",
                [
                    *repointed_params,
                    *([now, *moved_params, *lead_range, *kept_params] if adjust_scores else []),
                ],
            )
            return
        cursor.execute(
            f"CREATE TEMPORARY TABLE {REPOINTED_TABLE} AS {repointed_sql}", repointed_params
        )
        if adjust_scores:
            cursor.execute(
                f"INSERT INTO {MOVED_TABLE} {moved_sql.format(changed=REPOINTED_TABLE)}",
                moved_params,
            )
            cursor.execute(
                f"""UPDATE {scores} SET "behaviour_score" = m.score, "scored_at" = %s
                    FROM {MOVED_TABLE} m
                    WHERE {scores}."lead_id" = m.lead_id
                      AND {scores}."lead_id" >= %s AND {scores}."lead_id" < %s""",
                [now, *lead_range],
            )
        cursor.execute(
            f"""UPDATE {ledger} SET "points" = r.points FROM {REPOINTED_TABLE} r
                WHERE {ledger}."id" = r.id AND r.points <> 0"""
        )
        cursor.execute(
            f"DELETE FROM {ledger} WHERE id IN (SELECT id FROM {REPOINTED_TABLE} WHERE points = 0)"
        )


def _repointed_sql(
    rules: list[BehaviourRule], lead_range: tuple[int, int], *, with_ctid: bool = False
) -> tuple[str, list]:
    """SELECT id, lead_id, at, points_before, points (and with ``with_ctid`` the row's address,
    tid; PostgreSQL): the ledger rows of ``rules`` (leads lo <= id < hi) whose points the
    rules' new points change. A capped rule's rows are numbered per lead and cap period in the
    order the derivation numbers the rule's firings (at, then event); its rows are the first
    firings of each period, those that gave points, so the n-th row is the n-th firing and gets
    min(p, C - (n - 1)·p), or 0 when nothing is left of C."""
    rule_rows, params = [], []
    for rule in rules:
        clipped = rule.cap_points is not None and rule.points > 0
        rule_rows.append(
            "SELECT CAST(%s AS INTEGER) AS rule_id, CAST(%s AS INTEGER) AS points,"
            " CAST(%s AS INTEGER) AS cap_points, CAST(%s AS INTEGER) AS cap_days"
        )
        params += [
            rule.pk,
            rule.points,
            rule.cap_points if clipped else None,
            rule.cap_days if clipped else None,
        ]
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    nth = "1"
    if any(rule.cap_points is not None and rule.points > 0 for rule in rules):
        day = _day_number_sql('e."at"')
        nth = (
            'ROW_NUMBER() OVER (PARTITION BY e."lead_id", e."rule_id",'
            f" CASE WHEN r.cap_days IS NULL THEN 0 ELSE {day} / r.cap_days END"
            ' ORDER BY e."at", e."event_id")'
        )
    tid = "{}, " if with_ctid else ""
    left = "w.cap_points - (w.nth - 1) * w.new_points"
    new_points = f"""CASE WHEN w.cap_points IS NULL THEN w.new_points
                          WHEN {left} >= w.new_points THEN w.new_points
                          WHEN {left} > 0 THEN {left} ELSE 0 END"""
    sql = f"""
        SELECT {tid.format("w.tid")}w.id, w.lead_id, w.at, w.points AS points_before,
               {new_points} AS points FROM (
          SELECT {tid.format("e.ctid AS tid")}e."id" AS id, e."lead_id" AS lead_id,
                 e."at" AS at, e."points" AS points,
                 r.points AS new_points, r.cap_points, {nth} AS nth
          FROM {ledger} e JOIN ({" UNION ALL ".join(rule_rows)}) r ON r.rule_id = e."rule_id"
          WHERE e."rule_id" IN ({", ".join(["%s"] * len(rules))})
            AND e."lead_id" >= %s AND e."lead_id" < %s
        ) w WHERE {new_points} <> w.points"""
    return sql, [*params, *(rule.pk for rule in rules), *lead_range]


def ledger_rebuild(
    *,
    rules: list[BehaviourRule],
    lead_range: tuple[int, int],
    half_life_days: int,
    now: datetime,
) -> None:
    """Derive the ledger rows of ``rules`` for the leads with lo <= id < hi from their events, as
    ``event_score`` would have written them event by event in the order they happened: window
    functions number each rule's matching events per lead (ever, per day, per cap period).

    The derived rows go to a temporary table and the ledger is reconciled with it: only rows
    whose points changed are rewritten (in place: no foreign-key checks), rows no longer derived
    deleted, new ones inserted. The leads whose ledger changed, and no others, are left in
    TOUCHED_TABLE: a rule change rescores only them. On PostgreSQL each row there also carries
    what one changed ledger row adds to its lead's score now (``delta``, decayed to ``now``), so
    the score moves by the sum without the lead's other rows being read again."""
    lo, hi = lead_range
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {DERIVED_TABLE}")
        if not rules:
            cursor.execute(f"CREATE TEMPORARY TABLE {TOUCHED_TABLE} (lead_id INTEGER, delta FLOAT)")
            return
        derive_sql, derive_params = _derived_ledger_sql(rules, lead_range)
        cursor.execute(f"CREATE TEMPORARY TABLE {DERIVED_TABLE} AS {derive_sql}", derive_params)
        ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
        rule_ids = [rule.pk for rule in rules]
        of_rules = (
            f"l.rule_id IN ({', '.join(['%s'] * len(rule_ids))})"
            " AND l.lead_id >= %s AND l.lead_id < %s"
        )
        of_rules_params = [*rule_ids, lo, hi]
        derived = (
            f"SELECT 1 FROM {DERIVED_TABLE} d"
            " WHERE d.event_id = l.event_id AND d.rule_id = l.rule_id"
        )
        in_ledger = (
            f"SELECT 1 FROM {ledger} l WHERE l.event_id = d.event_id AND l.rule_id = d.rule_id"
        )
        delete = (
            f"DELETE FROM {ledger} WHERE id IN"
            f" (SELECT l.id FROM {ledger} l WHERE {of_rules} AND NOT EXISTS ({derived}))"
        )
        update = f"""UPDATE {ledger} SET "points" = d.points FROM {DERIVED_TABLE} d
                     WHERE {ledger}."event_id" = d.event_id AND {ledger}."rule_id" = d.rule_id
                       AND {ledger}."points" <> d.points"""
        # The same update joined to the ledger's rows as they were (the statement's snapshot),
        # so RETURNING can say by how much each row's points changed.
        update_returning = f"""UPDATE {ledger} SET "points" = d.points
                     FROM {DERIVED_TABLE} d, {ledger} prior
                     WHERE {ledger}."event_id" = d.event_id AND {ledger}."rule_id" = d.rule_id
                       AND {ledger}."points" <> d.points AND prior.id = {ledger}.id
                     RETURNING {ledger}.lead_id, {ledger}.points - prior.points AS points,
                               {ledger}.at"""
        insert = f"""INSERT INTO {ledger} ("lead_id", "rule_id", "event_id", "points", "at")
                     SELECT d.lead_id, d.rule_id, d.event_id, d.points, d.at
                     FROM {DERIVED_TABLE} d WHERE NOT EXISTS ({in_ledger})"""
        if connection.vendor == "postgresql":
            # Each write says which leads it changed and by how much (RETURNING): no second
            # pass over the ledger to find them, no sum over their whole ledgers afterwards.
            cursor.execute(f"CREATE TEMPORARY TABLE {TOUCHED_TABLE} (lead_id INTEGER, delta FLOAT)")
            age_days, age_params = _age_in_days_sql('"at"', now)
            returning = f" RETURNING {ledger}.lead_id, {ledger}.points, {ledger}.at"
            for statement, sign, params in (
                (delete + returning, -1, of_rules_params),
                (update_returning, 1, []),
                (insert + returning, 1, []),
            ):
                cursor.execute(
                    f"WITH changed AS ({statement}) INSERT INTO {TOUCHED_TABLE}"
                    f" SELECT lead_id, {sign} * points * POWER(0.5, ({age_days}) / %s)"
                    " FROM changed",
                    [*params, *age_params, float(half_life_days)],
                )
        else:
            cursor.execute(
                f"""CREATE TEMPORARY TABLE {TOUCHED_TABLE} AS
                    SELECT l.lead_id FROM {ledger} l WHERE {of_rules} AND NOT EXISTS ({derived})
                    UNION
                    SELECT d.lead_id FROM {DERIVED_TABLE} d
                    WHERE NOT EXISTS ({in_ledger} AND l.points = d.points)""",
                of_rules_params,
            )
            cursor.execute(delete, of_rules_params)
            cursor.execute(update)
            cursor.execute(insert)
        cursor.execute(f"DROP TABLE {DERIVED_TABLE}")


def _derived_ledger_sql(
    rules: list[BehaviourRule], lead_range: tuple[int, int]
) -> tuple[str, list]:
    """SELECT lead_id, rule_id, event_id, points, at: the ledger rows ``rules`` give the events
    of the leads with lo <= id < hi."""
    rule_rows, params = [], []
    for rule in rules:
        rule_rows.append(
            "SELECT CAST(%s AS INTEGER) AS rule_id, CAST(%s AS VARCHAR(20)) AS kind,"
            " CAST(%s AS VARCHAR(600)) AS pattern, CAST(%s AS INTEGER) AS points,"
            " CAST(%s AS VARCHAR(15)) AS frequency, CAST(%s AS INTEGER) AS cap_points,"
            " CAST(%s AS INTEGER) AS cap_days"
        )
        params += [
            rule.pk,
            rule.event_kind,
            _like_pattern(rule.pattern),
            rule.points,
            rule.frequency,
            rule.cap_points,
            rule.cap_days,
        ]
    events = connection.ops.quote_name(Event._meta.db_table)
    day = _day_number_sql('e."occurred_at"')
    nth_before = "(k.nth - 1) * k.points"
    sql = f"""
        SELECT g.lead_id, g.rule_id, g.event_id, g.given AS points, g.at FROM (
          SELECT k.lead_id, k.rule_id, k.event_id, k.at,
            CASE WHEN k.cap_points IS NULL OR k.points <= 0 THEN k.points
                 WHEN k.cap_points - {nth_before} >= k.points THEN k.points
                 WHEN k.cap_points - {nth_before} > 0 THEN k.cap_points - {nth_before}
                 ELSE 0 END AS given
          FROM (
            SELECT f.*, ROW_NUMBER() OVER (
                PARTITION BY f.lead_id, f.rule_id, f.period ORDER BY f.at, f.event_id) AS nth
            FROM (
              SELECT m.*,
                ROW_NUMBER() OVER (
                    PARTITION BY m.lead_id, m.rule_id ORDER BY m.at, m.event_id) AS nth_ever,
                ROW_NUMBER() OVER (
                    PARTITION BY m.lead_id, m.rule_id, m.day ORDER BY m.at, m.event_id) AS nth_day
              FROM (
                SELECT e."id" AS event_id, e."lead_id" AS lead_id, e."occurred_at" AS at,
                       r.rule_id, r.points, r.frequency, r.cap_points, {day} AS day,
                       CASE WHEN r.cap_days IS NULL THEN 0 ELSE {day} / r.cap_days END AS period
                FROM {events} e JOIN ({" UNION ALL ".join(rule_rows)}) r ON e."kind" = r.kind
                  AND (r.pattern = '' OR LOWER(e."url") LIKE r.pattern ESCAPE '\\'
                       OR LOWER(e."asset") LIKE r.pattern ESCAPE '\\')
                WHERE e."lead_id" >= %s AND e."lead_id" < %s
              ) m
            ) f
            WHERE f.frequency = 'every_time' OR (f.frequency = 'once_ever' AND f.nth_ever = 1)
               OR (f.frequency = 'once_per_day' AND f.nth_day = 1)
          ) k
        ) g WHERE g.given <> 0"""
    return sql, [*params, *lead_range]


def drop_touched() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {REPOINTED_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {MOVED_TABLE}")

"""Scoring writes: the ledger, decayed scores, fit grade, rank and temperature, the MQL rule.

One implementation of each piece of arithmetic, used by every path:

- fit, grade, band, rank and temperature: ``_fit_and_score`` turns the grade rules into SQL
  expressions over a queryset of leads and ``_classified_sql`` the profile's thresholds and matrix;
  ``_write_fit`` writes them with one ``UPDATE … FROM (SELECT …)`` for one lead (a new or edited
  one), a rescoring through a temporary table per range of leads;
- behaviour points: ``event_score`` applies the rules to one arriving event (frequency and cap
  read from the ledger); ``_ledger_rebuild`` derives the same ledger for many leads at once with
  window functions (after a rule change), both counting days and cap periods the same way;
- decay: ``_decayed_sum_sql`` is the Σ points * 0.5^(age / half-life) of every path.

No lead is loaded into Python except the ids of leads that change stage.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    Expression,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Event, Lead, LeadScore, Temperature
from scoring import proposals
from scoring.conditions import grade_rule_condition
from scoring.models import (
    BehaviourRule,
    GradeRule,
    MqlReview,
    Rescoring,
    ScoreEntry,
    ScoringProfile,
)

MQL_RULE = "scoring:mql_threshold"
# Leads the MQL rule may promote: new ones and recycled ones that engage again.
PROMOTABLE = (Stage.UNQUALIFIED, Stage.NURTURE)
GRADES = ("A", "B", "C", "D")

# Days and cap periods are counted in UTC from this Monday, in SQL and in Python alike: a 7-day
# cap is a calendar week, Monday to Sunday.
DAY_ZERO = datetime(2001, 1, 1, tzinfo=UTC)
# Leads per step of a set-based rescoring: one transaction, one step of the progress bar.
CHUNK_SIZE = 50_000
SAMPLE_SIZE = 10


def active_profile() -> ScoringProfile:
    profile = ScoringProfile.objects.filter(is_active=True).first()
    if profile is None:
        raise ScoringProfile.DoesNotExist("No active scoring profile: run the migrations.")
    return profile


# Fit -------------------------------------------------------------------------------------------


def _fit_and_score(
    leads: QuerySet[Lead], rules: list[GradeRule], *, score: Expression | None = None
) -> QuerySet:
    """``leads`` with new_fit (every grade rule's condition: the costly part, evaluated once per
    lead) and new_score, the behaviour score to band (default: the stored one)."""
    fit = Value(0)
    for rule in rules:
        fit = fit + Case(
            When(grade_rule_condition(rule), then=Value(rule.points)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return leads.order_by().annotate(
        new_fit=Coalesce(fit, Value(0), output_field=IntegerField()),
        new_score=score if score is not None else F("score__behaviour_score"),
    )


def _classified_sql(source_sql: str, source_params: list, profile: ScoringProfile):
    """SQL adding new_grade, new_band, new_rank and new_temperature to the rows of
    ``source_sql`` (which has new_fit and new_score), from the profile's thresholds and matrix.
    Each level reads the columns of the one inside, so nothing is computed twice."""

    def ranks_in(ranks: list[str]) -> tuple[str, list[str]]:
        if not ranks:
            return "1 = 0", []
        return f"c.new_rank IN ({', '.join(['%s'] * len(ranks))})", list(ranks)

    hot, hot_params = ranks_in(profile.hot_ranks)
    warm, warm_params = ranks_in(profile.warm_ranks)
    sql = f"""
        SELECT c.*, CASE WHEN {hot} THEN %s WHEN {warm} THEN %s ELSE %s END AS new_temperature
        FROM (
          SELECT b.*, b.new_grade || b.new_band AS new_rank
          FROM (
            SELECT a.*,
              CASE WHEN a.new_fit >= %s THEN 'A' WHEN a.new_fit >= %s THEN 'B'
                   WHEN a.new_fit >= %s THEN 'C' ELSE 'D' END AS new_grade,
              CASE WHEN a.new_score >= %s THEN '1' WHEN a.new_score >= %s THEN '2'
                   WHEN a.new_score >= %s THEN '3' ELSE '4' END AS new_band
            FROM ({source_sql}) a
          ) b
        ) c"""
    params = [
        *hot_params,
        Temperature.HOT.value,
        *warm_params,
        Temperature.WARM.value,
        Temperature.COLD.value,
        profile.grade_a_min,
        profile.grade_b_min,
        profile.grade_c_min,
        profile.band_1_min,
        profile.band_2_min,
        profile.band_3_min,
        *source_params,
    ]
    return sql, params


def _meets_mql(profile: ScoringProfile) -> Q:
    return Q(grade__in=list(profile.mql_grades), score__behaviour_score__gte=profile.mql_min_score)


@transaction.atomic
def leads_rescore_fit(*, leads: QuerySet[Lead] | None = None) -> int:
    """Recompute fit points, grade, rank and temperature of ``leads`` (default: all) from the
    active profile in one UPDATE; returns how many leads changed."""
    profile = active_profile()
    rules = list(profile.grade_rules.all())
    return _write_fit(leads if leads is not None else Lead.objects.all(), profile, rules)


def _write_fit(leads: QuerySet[Lead], profile: ScoringProfile, rules: list[GradeRule]) -> int:
    """Fit points, then grade, rank and temperature from them; returns how many leads changed
    grade, rank or temperature."""
    source_sql, source_params = (
        _fit_and_score(leads, rules).values("id", "new_fit").query.sql_with_params()
    )
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {scores} SET "fit_points" = s."new_fit" FROM ({source_sql}) AS s
                WHERE {scores}."lead_id" = s."id" AND {scores}."fit_points" <> s."new_fit" """,
            source_params,
        )
    return _write_classes(leads, profile)


def _write_classes(leads: QuerySet[Lead], profile: ScoringProfile) -> int:
    """Grade, rank and temperature of ``leads`` from their stored fit points and score, written
    where they changed; returns how many leads that is."""
    source_sql, source_params = (
        leads.order_by()
        .values("id", new_fit=F("score__fit_points"), new_score=F("score__behaviour_score"))
        .query.sql_with_params()
    )
    select_sql, params = _classified_sql(source_sql, list(source_params), profile)
    return _write_lead_classes(
        f"({select_sql})",
        params,
        changed='l."grade" <> s.new_grade OR l."rank" <> s.new_rank '
        'OR l."temperature" <> s.new_temperature',
        candidates=leads.order_by().values("id").query.sql_with_params(),
    )


def _write_lead_classes(
    source: str, params: list, *, changed: str, candidates: tuple[str, tuple]
) -> int:
    """Grade, rank and temperature from ``source`` (a table or subquery with id, new_grade,
    new_rank and new_temperature, aliased s) to the leads (l) where ``changed``; then the
    temperature's copy in LeadScore (leadscore_hot) of the leads among ``candidates`` (SQL of
    their ids) whose copy differs. Returns how many leads changed."""
    leads = connection.ops.quote_name(Lead._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    candidates_sql, candidates_params = candidates
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {leads} AS l SET "grade" = s.new_grade, "rank" = s.new_rank,
                       "temperature" = s.new_temperature
                FROM {source} AS s
                WHERE l."id" = s.id AND ({changed})""",
            params,
        )
        changed_leads = cursor.rowcount
        if changed_leads:
            cursor.execute(
                f"""UPDATE {scores} AS c SET "temperature" = l."temperature" FROM {leads} AS l
                    WHERE c."lead_id" = l."id" AND c."temperature" <> l."temperature"
                      AND l."id" IN ({candidates_sql})""",
                candidates_params,
            )
    return changed_leads


@transaction.atomic
def company_leads_rescore_fit(*, company_id: int) -> int:
    """Grade the leads of a company whose industry, size or revenue changed, then the MQL rule
    for them; returns how many changed grade, rank or temperature."""
    leads = Lead.objects.filter(company_id=company_id)
    list(leads.select_for_update().values_list("id", flat=True))
    profile = active_profile()
    changed = _write_fit(leads, profile, list(profile.grade_rules.all()))
    lead_services.leads_transition_by_rule(
        leads=leads.filter(stage__in=PROMOTABLE).filter(_meets_mql(profile)),
        to_stage=Stage.MQL,
        by_rule=MQL_RULE,
    )
    return changed


@transaction.atomic
def lead_rescore_fit(*, lead_id: int) -> bool:
    """Score one new or edited lead, then the MQL rule (an edit can make a lead qualify); True
    when its grade, rank or temperature changed."""
    if not Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id).exists():
        return False
    profile = active_profile()
    changed = _write_fit(Lead.objects.filter(pk=lead_id), profile, list(profile.grade_rules.all()))
    _promote_if_qualified(lead_id=lead_id, profile=profile)
    return changed > 0


# Decay -----------------------------------------------------------------------------------------


def _age_in_days_sql(column: str, now: datetime) -> tuple[str, list]:
    """SQL of the days from ``column`` to ``now``, a float."""
    if connection.vendor == "postgresql":
        # EXTRACT gives a numeric: in float8 the power is about ten times faster.
        return f"CAST(EXTRACT(EPOCH FROM (%s::timestamptz - {column})) AS FLOAT) / 86400.0", [now]
    # SQLite stores UTC as text; julianday() reads it.
    return f"julianday(%s) - julianday({column})", [
        now.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    ]


def _decayed_sum_sql(*, half_life_days: int, now: datetime) -> tuple[str, list]:
    """SQL of Σ points * 0.5^(age in days / half-life), unrounded, over the ledger rows the
    caller selects (it appends the WHERE or GROUP BY)."""
    age_days, params = _age_in_days_sql('"at"', now)
    expression = f'SUM("points" * POWER(0.5, ({age_days}) / %s))'
    return expression, [*params, float(half_life_days)]


def _decayed_score_of_lead(*, half_life_days: int, now: datetime, every_lead: bool) -> RawSQL:
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


def _refresh_behaviour_scores(
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
        _move_touched_scores(half_life_days=half_life_days, now=now)
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


def _move_touched_scores(*, half_life_days: int, now: datetime) -> None:
    """The scores of the leads in TOUCHED_TABLE decayed to now, plus what their changed ledger
    rows add now (the deltas _ledger_rebuild recorded): the sum of their new ledger."""
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
                WHERE {table}."lead_id" = t.lead_id""",
            [*params, float(half_life_days), now],
        )


def _decay_stored_scores(*, lead_range: tuple[int, int], half_life_days: int, now: datetime):
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


# Behaviour: one event --------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    """``*`` matches anything, everything else itself, case-insensitively (as ``_like_pattern``)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.lower().split("*")), re.S)


def _like_pattern(pattern: str) -> str:
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _rule_matches(rule: BehaviourRule, event: Event) -> bool:
    if rule.event_kind != event.kind:
        return False
    if not rule.pattern:
        return True
    regex = _pattern_regex(rule.pattern)
    return any(regex.fullmatch(value.lower()) for value in (event.url, event.asset) if value)


def day_number(at: datetime) -> int:
    """Days since DAY_ZERO (UTC): the day a once-a-day rule and a cap period count in."""
    return (at - DAY_ZERO).days


def _points_allowed(*, rule: BehaviourRule, lead_id: int, at: datetime) -> int:
    """The points ``rule`` may still give for an event at ``at``: 0 when it has fired as often as
    it may, fewer than its points when the cap of the period is nearly reached."""
    entries = ScoreEntry.objects.filter(lead_id=lead_id, rule=rule)
    if rule.frequency == BehaviourRule.Frequency.ONCE_EVER and entries.exists():
        return 0
    if rule.frequency == BehaviourRule.Frequency.ONCE_PER_DAY:
        day = DAY_ZERO + timedelta(days=day_number(at))
        if entries.filter(at__gte=day, at__lt=day + timedelta(days=1)).exists():
            return 0
    if rule.cap_points is None or rule.points <= 0:
        return rule.points
    period = DAY_ZERO + timedelta(days=day_number(at) // rule.cap_days * rule.cap_days)
    given = entries.filter(at__gte=period, at__lt=period + timedelta(days=rule.cap_days)).aggregate(
        total=Coalesce(Sum("points"), 0)
    )["total"]
    return max(0, min(rule.points, rule.cap_points - given))


@transaction.atomic
def event_score(*, event_id: int) -> list[ScoreEntry]:
    """Apply the behaviour rules to one event of a known lead: ledger rows, decayed score, rank
    and temperature, then the MQL rule. Idempotent (an event is scored once per rule) and
    serialised per lead (the lead row is locked), so frequencies, caps and the MQL promotion
    hold under concurrent events. A bounded number of queries, whatever the lead's history."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.lead_id is None:
        return []
    lead = Lead.objects.select_for_update().get(pk=event.lead_id)
    profile = active_profile()
    rules = [
        rule
        for rule in profile.behaviour_rules.filter(event_kind=event.kind)
        if _rule_matches(rule, event)
    ]
    already = set(
        ScoreEntry.objects.filter(event=event, rule__in=rules).values_list("rule_id", flat=True)
    )
    entries = []
    for rule in rules:
        if rule.pk in already:
            continue
        points = _points_allowed(rule=rule, lead_id=lead.pk, at=event.occurred_at)
        if points:
            entries.append(
                ScoreEntry(lead=lead, rule=rule, event=event, points=points, at=event.occurred_at)
            )
    if not entries:
        return []
    ScoreEntry.objects.bulk_create(entries)
    _write_score_and_rank(lead_id=lead.pk, profile=profile)
    _promote_if_qualified(lead_id=lead.pk, profile=profile)
    return entries


def _write_score_and_rank(*, lead_id: int, profile: ScoringProfile) -> None:
    """One lead's decayed score as of now, then band, rank and temperature from it and the
    stored fit points (an event cannot change fit)."""
    now = timezone.now()
    expression, params = _decayed_sum_sql(half_life_days=profile.half_life_days, now=now)
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {scores} SET "behaviour_score" = (
                  SELECT COALESCE({expression}, 0) FROM {ledger} WHERE "lead_id" = %s),
                  "scored_at" = %s
                WHERE "lead_id" = %s""",
            [*params, lead_id, now, lead_id],
        )
    _write_classes(Lead.objects.filter(pk=lead_id), profile)


def _promote_if_qualified(*, lead_id: int, profile: ScoringProfile) -> None:
    """The caller holds the lead's lock: the check and the move see the same lead."""
    qualified = (
        Lead.objects.filter(pk=lead_id, stage__in=PROMOTABLE).filter(_meets_mql(profile)).exists()
    )
    if qualified:
        lead_services.lead_transition(lead_id=lead_id, to_stage=Stage.MQL, by_rule=MQL_RULE)


# Behaviour: many leads at once -----------------------------------------------------------------


def _day_number_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return (
            f"CAST(FLOOR(EXTRACT(EPOCH FROM ({column} - TIMESTAMPTZ '2001-01-01 00:00:00+00'))"
            f" / 86400) AS INTEGER)"
        )
    return f"CAST(julianday({column}) - julianday('2001-01-01') AS INTEGER)"


def _ledger_repoint(
    *,
    rules: list[BehaviourRule],
    lead_range: tuple[int, int],
    half_life_days: int,
    now: datetime,
    adjust_scores: bool,
) -> None:
    """The ledger rows of ``rules`` (leads lo <= id < hi) take their rule's new points in place
    (proposals.Written.repoint: the same rows, other points). Unless every score is summed again
    afterwards (``adjust_scores`` false), each lead's stored score moves by what its rows gained:
    the stored score decayed to now, plus Σ (new - old points) · 0.5^(age / half-life); exactly
    the sum of the changed ledger, without reading the lead's other rows."""
    lo, hi = lead_range
    ledger = connection.ops.quote_name(ScoreEntry._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    new_points = 'CASE "rule_id" ' + " ".join("WHEN %s THEN %s" for _rule in rules) + " END"
    new_params = [value for rule in rules for value in (rule.pk, rule.points)]
    of_rules = (
        f'"rule_id" IN ({", ".join(["%s"] * len(rules))})'
        f' AND "lead_id" >= %s AND "lead_id" < %s AND "points" <> {new_points}'
    )
    of_rules_params = [*(rule.pk for rule in rules), lo, hi, *new_params]
    hl = float(half_life_days)
    with connection.cursor() as cursor:
        if adjust_scores:
            stored_age, stored_params = _age_in_days_sql('"scored_at"', now)
            entry_age, entry_params = _age_in_days_sql('"at"', now)
            cursor.execute(
                f"""UPDATE {scores}
                    SET "behaviour_score" = "behaviour_score" * POWER(0.5, ({stored_age}) / %s)
                                            + d."delta",
                        "scored_at" = %s
                    FROM (SELECT "lead_id",
                                 SUM(({new_points} - "points")
                                     * POWER(0.5, ({entry_age}) / %s)) AS "delta"
                          FROM {ledger} WHERE {of_rules} GROUP BY "lead_id") AS d
                    WHERE {scores}."lead_id" = d."lead_id" """,
                [
                    *stored_params,
                    hl,
                    now,
                    *new_params,
                    *entry_params,
                    hl,
                    *of_rules_params,
                ],
            )
        cursor.execute(
            f'UPDATE {ledger} SET "points" = {new_points} WHERE {of_rules}',
            [*new_params, *of_rules_params],
        )


def _ledger_rebuild(
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


def lead_id_ranges(*, size: int | None = None) -> list[tuple[int, int]]:
    """[lo, hi) ranges of lead ids covering every lead, ``size`` (CHUNK_SIZE) ids each."""
    size = size or CHUNK_SIZE
    bounds = Lead.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    return [
        (lo, min(lo + size, bounds["hi"] + 1)) for lo in range(bounds["lo"], bounds["hi"] + 1, size)
    ]


def _lock_range(lead_range: tuple[int, int]) -> None:
    """Serialise with ``event_score`` and edits, which lock one lead first (SQLite locks the whole
    database for a write anyway)."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE "id" >= %s AND "id" < %s'
            f" FOR UPDATE) AS locked",
            list(lead_range),
        )


# Rescoring: preview and apply ------------------------------------------------------------------


@dataclass
class Outcome:
    """What a rescoring changes (or would change): counts, grade moves and samples."""

    leads: int = 0
    grade_changed: int = 0
    rank_changed: int = 0
    temperature_changed: int = 0
    become_mql: int = 0
    flagged: int = 0
    grade_moves: dict[str, int] | None = None
    samples: list[dict] | None = None

    def add(self, other: "Outcome") -> None:
        for name in (
            "leads",
            "grade_changed",
            "rank_changed",
            "temperature_changed",
            "become_mql",
            "flagged",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        moves = dict(self.grade_moves or {})
        for move, count in (other.grade_moves or {}).items():
            moves[move] = moves.get(move, 0) + count
        self.grade_moves = moves
        self.samples = [*(self.samples or []), *(other.samples or [])][:SAMPLE_SIZE]

    def as_dict(self) -> dict:
        return {
            "leads": self.leads,
            "grade_changed": self.grade_changed,
            "rank_changed": self.rank_changed,
            "temperature_changed": self.temperature_changed,
            "become_mql": self.become_mql,
            "flagged": self.flagged,
            "grade_moves": dict(sorted((self.grade_moves or {}).items())),
            "samples": self.samples or [],
        }


# A pass over one range of leads is computed once into this temporary table, then counted,
# sampled and (when saving) written from it: the rules' CASE expressions run once per lead.
PASS_TABLE = "scoring_pass"
FIT_TABLE = "scoring_pass_fit"
# The leads whose ledger a range's rebuild changed (temporary, per connection).
TOUCHED_TABLE = "scoring_touched"
# The ledger rows a range's rebuild derives, before they are reconciled with the ledger.
DERIVED_TABLE = "scoring_derived"
BASE_COLUMNS = (
    "id",
    "stage",
    "grade",
    "rank",
    "temperature",
    "behaviour_score",
    "new_fit",
    "new_score",
)
# BASE_COLUMNS from LeadScore, and the stored fit points beside the new ones.
JOINED_COLUMNS = {
    "behaviour_score": F("score__behaviour_score"),
    "fit_points": F("score__fit_points"),
}


def _materialise(selection: QuerySet, profile: ScoringProfile) -> None:
    """Store a ``_fit_and_score`` selection, classified, in PASS_TABLE (this connection's own,
    temporary): first the costly fit and score, then grade to temperature from those columns."""
    own = [column for column in BASE_COLUMNS if column not in JOINED_COLUMNS]
    source_sql, source_params = selection.values(*own, **JOINED_COLUMNS).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PASS_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {FIT_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {FIT_TABLE} AS {source_sql}", source_params)
        sql, params = _classified_sql(f"SELECT * FROM {FIT_TABLE}", [], profile)
        cursor.execute(f"CREATE TEMPORARY TABLE {PASS_TABLE} AS {sql}", params)
        cursor.execute(f"DROP TABLE {FIT_TABLE}")


def _drop_pass() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PASS_TABLE}")


def _drop_touched() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED_TABLE}")


def _outcome(profile: ScoringProfile, *, samples: int) -> Outcome:
    """Compare the new values in PASS_TABLE with the stored ones, in SQL."""
    grades = list(profile.mql_grades)
    meets = f"(p.new_grade IN ({', '.join(['%s'] * len(grades))}) AND p.new_score >= %s)"
    meets_params = [*grades, profile.mql_min_score]
    promotable = "p.stage IN (%s, %s)"
    reviews = connection.ops.quote_name(MqlReview._meta.db_table)
    leads = connection.ops.quote_name(Lead._meta.db_table)

    def count(condition: str) -> str:
        return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COUNT(*), {count("p.new_grade <> p.grade")}, {count("p.new_rank <> p.rank")},
                       {count("p.new_temperature <> p.temperature")},
                       {count(f"{promotable} AND {meets}")},
                       {count(f"p.stage = %s AND NOT {meets} AND r.id IS NULL")}
                FROM {PASS_TABLE} p LEFT JOIN {reviews} r ON r.lead_id = p.id""",
            [*PROMOTABLE, *meets_params, Stage.MQL, *meets_params],
        )
        row = cursor.fetchone()
        cursor.execute(
            f"""SELECT p.grade, p.new_grade, COUNT(*) FROM {PASS_TABLE} p
                WHERE p.new_grade <> p.grade GROUP BY p.grade, p.new_grade"""
        )
        moves = {f"{old}→{new}": n for old, new, n in cursor.fetchall()}
        rows = []
        if samples:
            cursor.execute(
                f"""SELECT p.id, l.first_name, l.last_name, l.email, p.stage, p.grade,
                           p.new_grade, p.rank, p.new_rank, p.temperature, p.new_temperature,
                           p.behaviour_score, p.new_score
                    FROM {PASS_TABLE} p JOIN {leads} l ON l.id = p.id
                    WHERE p.new_rank <> p.rank OR p.new_temperature <> p.temperature
                       OR ({promotable} AND {meets})
                    ORDER BY p.id LIMIT %s""",
                [*PROMOTABLE, *meets_params, samples],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return Outcome(
        leads=row[0],
        grade_changed=row[1],
        rank_changed=row[2],
        temperature_changed=row[3],
        become_mql=row[4],
        flagged=row[5],
        grade_moves=moves,
        samples=[
            {
                **sample,
                "behaviour_score": round(float(sample["behaviour_score"]), 2),
                "new_score": round(float(sample["new_score"]), 2),
            }
            for sample in rows
        ],
    )


def _write_pass(*, refit: bool = True) -> int:
    """Write fit points (if computed again), grade, rank and temperature from PASS_TABLE where
    they changed; returns how many leads changed grade, rank or temperature."""
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        if refit:
            cursor.execute(
                f"""UPDATE {scores} SET "fit_points" = p.new_fit FROM {PASS_TABLE} p
                    WHERE {scores}."lead_id" = p.id AND p.new_fit <> p.fit_points"""
            )
    # The pass holds the stored values too: the few leads that change are picked there, then
    # found by primary key.
    return _write_lead_classes(
        PASS_TABLE,
        [],
        changed="s.grade <> s.new_grade OR s.rank <> s.new_rank "
        "OR s.temperature <> s.new_temperature",
        candidates=(f"SELECT id FROM {PASS_TABLE} WHERE temperature <> new_temperature", ()),
    )


def _report_progress(rescoring: Rescoring, done: int, total: int) -> None:
    cache.set(f"scoring:rescoring:{rescoring.pk}", (done, total), timeout=24 * 3600)


def rescoring_progress(*, rescoring: Rescoring) -> tuple[int, int]:
    """(steps done, steps in all) of a running rescoring; (1, 1) once it has finished."""
    if rescoring.status in {Rescoring.Status.DONE, Rescoring.Status.FAILED}:
        return (1, 1)
    return cache.get(f"scoring:rescoring:{rescoring.pk}") or (0, 1)


@transaction.atomic
def rescoring_start(
    *, kind: str, proposal: dict, by_user: AbstractBaseUser, base_version: int | None = None
) -> Rescoring:
    """Validate a proposed profile (``scoring.proposals``) and queue its preview or its save.
    ``base_version`` is the version the user edited; a save over a newer one is refused."""
    from scoring import tasks

    profile = active_profile()
    cleaned = proposals.clean(proposal, profile=profile)
    base = profile.version if base_version is None else base_version
    if base != profile.version:
        raise ValidationError({"base_version": _stale_message()})
    rescoring = Rescoring.objects.create(
        profile=profile, kind=kind, base_version=base, proposal=cleaned, created_by=by_user
    )
    transaction.on_commit(lambda: tasks.rescoring_run.delay(rescoring.pk))
    return rescoring


def _stale_message() -> str:
    return _("Someone saved the scoring rules meanwhile. Reload them and make your change again.")


def rescoring_save_preview(*, preview_id: int, by_user: AbstractBaseUser) -> Rescoring:
    """Save exactly what a finished preview showed."""
    preview = Rescoring.objects.get(pk=preview_id, kind=Rescoring.Kind.PREVIEW)
    if preview.status != Rescoring.Status.DONE:
        raise ValidationError({"preview": _("The preview has not finished yet.")})
    return rescoring_start(
        kind=Rescoring.Kind.APPLY,
        proposal=preview.proposal,
        by_user=by_user,
        base_version=preview.base_version,
    )


def rescoring_run(*, rescoring_id: int) -> None:
    """Run a queued preview or save (the Celery task). A finished one is left alone; one that was
    interrupted (a worker lost) runs again: every step is idempotent."""
    with transaction.atomic():
        rescoring = Rescoring.objects.select_for_update().get(pk=rescoring_id)
        if rescoring.status in {Rescoring.Status.DONE, Rescoring.Status.FAILED}:
            return
        resumed = rescoring.status == Rescoring.Status.RUNNING
        rescoring.status = Rescoring.Status.RUNNING
        rescoring.started_at = rescoring.started_at or timezone.now()
        rescoring.save(update_fields=["status", "started_at"])
    try:
        if rescoring.kind == Rescoring.Kind.PREVIEW:
            outcome = _preview(rescoring)
        else:
            outcome = _apply(rescoring, resumed=resumed)
    except _Stale:
        _finish(rescoring, status=Rescoring.Status.FAILED, error=_stale_message())
        return
    except Exception as exc:
        _finish(rescoring, status=Rescoring.Status.FAILED, error=str(exc))
        raise
    _finish(rescoring, status=Rescoring.Status.DONE, result=outcome.as_dict())


class _Stale(Exception):
    pass


class _Rollback(Exception):
    pass


def _finish(rescoring: Rescoring, *, status: str, result: dict | None = None, error: str = ""):
    Rescoring.objects.filter(pk=rescoring.pk).update(
        status=status, result=result or {}, error=error, finished_at=timezone.now()
    )
    rescoring.status = status


def _preview(rescoring: Rescoring) -> Outcome:
    """Everything the save would do up to the point of writing leads, in a transaction that is
    rolled back; the new behaviour scores are computed, not stored, so no lead is locked."""
    outcome = Outcome()
    now = timezone.now()
    try:
        with transaction.atomic():
            profile = ScoringProfile.objects.select_for_update().get(pk=rescoring.profile_id)
            if profile.version != rescoring.base_version:
                raise _Stale
            written = proposals.write(profile=profile, proposal=rescoring.proposal, by_user=None)
            profile.refresh_from_db()
            grade_rules = list(profile.grade_rules.all())
            ranges = lead_id_ranges()
            for done, lead_range in enumerate(ranges):
                _report_progress(rescoring, done, len(ranges))
                # The preview derives the repointed rules' rows too: slower, but it needs no
                # stored score changed.
                _ledger_rebuild(
                    rules=[*written.rebuild, *written.repoint],
                    lead_range=lead_range,
                    half_life_days=profile.half_life_days,
                    now=now,
                )
                lo, hi = lead_range
                _materialise(
                    _fit_and_score(
                        Lead.objects.filter(id__gte=lo, id__lt=hi),
                        grade_rules,
                        score=_decayed_score_of_lead(
                            half_life_days=profile.half_life_days,
                            now=now,
                            every_lead=written.decay_all,
                        ),
                    ),
                    profile,
                )
                missing = SAMPLE_SIZE - len(outcome.samples or [])
                outcome.add(_outcome(profile, samples=missing))
                _drop_pass()
                _drop_touched()
            raise _Rollback
    except _Rollback:
        pass
    return outcome


def _apply(rescoring: Rescoring, *, resumed: bool) -> Outcome:
    with transaction.atomic():
        profile = ScoringProfile.objects.select_for_update().get(pk=rescoring.profile_id)
        if resumed and profile.version == rescoring.base_version + 1:
            # Interrupted after the save: derive every ledger row again (exact, if slower).
            written = proposals.Written(
                rebuild=list(profile.behaviour_rules.all()), decay_all=True, refit=True
            )
        elif profile.version != rescoring.base_version:
            raise _Stale
        else:
            written = proposals.write(
                profile=profile, proposal=rescoring.proposal, by_user=rescoring.created_by
            )
    profile.refresh_from_db()
    return rescore_all(
        profile=profile,
        rebuild=written.rebuild,
        repoint=written.repoint,
        decay_all=written.decay_all,
        refit=written.refit,
        rescoring=rescoring,
    )


def rescore_all(
    *,
    profile: ScoringProfile | None = None,
    rebuild: list[BehaviourRule] | None = None,
    repoint: list[BehaviourRule] | None = None,
    decay_all: bool = True,
    refit: bool = True,
    rescoring: Rescoring | None = None,
    now: datetime | None = None,
    decay_stored: bool = False,
    samples: bool = True,
) -> Outcome:
    """Every lead, set-based, one id range per transaction: give the ledger rows of the
    ``repoint`` rules their rule's new points and derive those of the ``rebuild`` rules again,
    decay the scores to ``now`` (every lead's, or unless ``decay_all`` only those whose ledger
    changed: a rule change leaves the others' daily decay to the nightly job; with
    ``decay_stored``, from the stored scores without reading the ledger, as the nightly job does
    when no rule changed), compute fit points again (unless no grade rule changed: ``refit``),
    write grade, rank and temperature, promote who now qualifies for MQL and flag MQLs that no
    longer do."""
    profile = profile or active_profile()
    grade_rules = list(profile.grade_rules.all())
    ranges = lead_id_ranges()
    outcome = Outcome()
    for done, lead_range in enumerate(ranges):
        if rescoring is not None:
            _report_progress(rescoring, done, len(ranges))
        outcome.add(
            _rescore_range(
                lead_range=lead_range,
                profile=profile,
                grade_rules=grade_rules,
                rebuild=rebuild or [],
                repoint=repoint or [],
                decay_all=decay_all,
                refit=refit,
                decay_stored=decay_stored,
                now=now or timezone.now(),
                samples=SAMPLE_SIZE - len(outcome.samples or []) if samples else 0,
            )
        )
    return outcome


@transaction.atomic
def _rescore_range(
    *,
    lead_range: tuple[int, int],
    profile: ScoringProfile,
    grade_rules: list[GradeRule],
    rebuild: list[BehaviourRule],
    repoint: list[BehaviourRule],
    decay_all: bool,
    refit: bool,
    decay_stored: bool,
    now: datetime,
    samples: int,
) -> Outcome:
    _lock_range(lead_range)
    lo, hi = lead_range
    in_range = Lead.objects.filter(id__gte=lo, id__lt=hi)
    if repoint:
        _ledger_repoint(
            rules=repoint,
            lead_range=lead_range,
            half_life_days=profile.half_life_days,
            now=now,
            adjust_scores=not decay_all,
        )
    _ledger_rebuild(
        rules=rebuild, lead_range=lead_range, half_life_days=profile.half_life_days, now=now
    )
    if decay_stored and not rebuild:
        _decay_stored_scores(lead_range=lead_range, half_life_days=profile.half_life_days, now=now)
    else:
        _refresh_behaviour_scores(
            lead_range=lead_range,
            half_life_days=profile.half_life_days,
            now=now,
            every_lead=decay_all,
        )
    if refit:
        selection = _fit_and_score(in_range, grade_rules)
    else:  # an unchanged fit: as stored
        selection = in_range.order_by().annotate(
            new_fit=F("score__fit_points"), new_score=F("score__behaviour_score")
        )
    _materialise(selection, profile)
    outcome = _outcome(profile, samples=samples)
    _write_pass(refit=refit)
    _drop_pass()
    _drop_touched()
    outcome.become_mql = lead_services.leads_transition_by_rule(
        leads=in_range.filter(stage__in=PROMOTABLE).filter(_meets_mql(profile)),
        to_stage=Stage.MQL,
        by_rule=MQL_RULE,
    )
    outcome.flagged = _flag_cooled_mqls(in_range, profile)
    return outcome


def _flag_cooled_mqls(leads: QuerySet[Lead], profile: ScoringProfile) -> int:
    """MQLs below the MQL condition are put up for review, not moved back; a flag whose lead
    qualifies again is withdrawn."""
    MqlReview.objects.filter(lead__in=leads.filter(_meets_mql(profile))).delete()
    below = leads.filter(stage=Stage.MQL, mql_review__isnull=True).exclude(_meets_mql(profile))
    flagged = MqlReview.objects.bulk_create(
        MqlReview(lead_id=lead_id, behaviour_score=round(score, 2), grade=grade)
        for lead_id, score, grade in below.values_list("id", "score__behaviour_score", "grade")
    )
    return len(flagged)


def leads_refresh_decay() -> dict[str, int]:
    """Nightly, set-based: decayed scores as of now for every lead (from the stored ones), then
    rank and temperature from them and the stored fit (fit changes with a lead's or company's
    edit, when it is computed at once), then the MQL rule; MQLs that cooled below the MQL
    condition are flagged for review."""
    outcome = rescore_all(profile=active_profile(), decay_stored=True, refit=False, samples=False)
    return {
        "ranks_changed": outcome.rank_changed,
        "promoted": outcome.become_mql,
        "flagged": outcome.flagged,
    }

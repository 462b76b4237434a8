"""Scoring writes: the ledger, decayed scores, fit grade, rank and temperature, the MQL rule.

One implementation of each piece of arithmetic, used by every path:

- fit, grade, band, rank and temperature: ``_fit_and_score`` turns the grade rules into SQL
  expressions over a queryset of leads and ``_classified_sql`` the profile's thresholds and matrix;
  ``_write_fit`` writes them with one ``UPDATE … FROM (SELECT …)`` for one lead (a new or edited
  one), ``scoring.rescoring`` through a temporary table per range of leads;
- behaviour points: ``event_score`` applies the rules to one arriving event (frequency and cap
  read from the ledger); ``scoring.ledger.ledger_rebuild`` derives the same ledger for many leads
  at once with window functions (after a rule change), both counting days and cap periods the
  same way;
- decay: ``_decayed_sum_sql`` is the Σ points * 0.5^(age / half-life) of every path.

No lead is loaded into Python except the ids of leads that change stage.
"""

import re
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import (
    Case,
    Expression,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Event, Lead, LeadScore, Temperature
from scoring.conditions import grade_rule_condition
from scoring.models import (
    BehaviourRule,
    GradeRule,
    ScoreEntry,
    ScoringProfile,
)

MQL_RULE = "scoring:mql_threshold"
# Leads the MQL rule may promote: new ones and recycled ones that engage again.
PROMOTABLE = (Stage.UNQUALIFIED, Stage.NURTURE)
GRADES = ("A", "B", "C", "D")
# pg_advisory_lock key ("fitrul" in ASCII). A rule change's save moves each lead's stored fit by
# the changed rules' difference (scoring.narrowing), right only while that fit is the old rules'
# sum: the save holds this lock while it runs, and grading a lead from every rule needs it
# shared, so no lead is graded from the new rules before the rescoring has reached it.
FIT_LOCK = 0x66697472756C


class FitRulesChanging(Exception):
    """A saved rule change is moving fit points: grade the lead once it is done."""


def _fit_rules_settled() -> bool:
    """Take FIT_LOCK shared for this transaction, unless a save holds it (SQLite, the
    single-process ``make run`` database, serialises writers itself)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [FIT_LOCK])
        return bool(cursor.fetchone()[0])


# Days and cap periods are counted in UTC from this Monday, in SQL and in Python alike: a 7-day
# cap is a calendar week, Monday to Sunday.
DAY_ZERO = datetime(2001, 1, 1, tzinfo=UTC)


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


def band_sql(column: str, thresholds: ScoringProfile | dict) -> tuple[str, list]:
    """The band ('1' best … '4') of the behaviour score in ``column`` under the band thresholds
    of ``thresholds`` (a profile, or a dict of its values as they were before a change)."""
    names = ("band_1_min", "band_2_min", "band_3_min")
    if isinstance(thresholds, dict):
        values = [thresholds[name] for name in names]
    else:
        values = [getattr(thresholds, name) for name in names]
    return (
        f"CASE WHEN {column} >= %s THEN '1' WHEN {column} >= %s THEN '2'"
        f" WHEN {column} >= %s THEN '3' ELSE '4' END",
        values,
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
    band, band_params = band_sql("a.new_score", profile)
    sql = f"""
        SELECT c.*, CASE WHEN {hot} THEN %s WHEN {warm} THEN %s ELSE %s END AS new_temperature
        FROM (
          SELECT b.*, b.new_grade || b.new_band AS new_rank
          FROM (
            SELECT a.*,
              CASE WHEN a.new_fit >= %s THEN 'A' WHEN a.new_fit >= %s THEN 'B'
                   WHEN a.new_fit >= %s THEN 'C' ELSE 'D' END AS new_grade,
              {band} AS new_band
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
        *band_params,
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
    for them; returns how many changed grade, rank or temperature. FitRulesChanging while a
    rule change is being saved."""
    if not _fit_rules_settled():
        raise FitRulesChanging
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
    when its grade, rank or temperature changed. FitRulesChanging while a rule change is being
    saved."""
    if not _fit_rules_settled():
        raise FitRulesChanging
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

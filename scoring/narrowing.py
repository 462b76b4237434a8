"""Which leads a saved rule change can move, so that a rescoring computes only theirs.

- **Fit**: each grade rule added, deleted or changed moves the stored fit points of the leads
  its old condition matches by minus its old points, and of those its new condition matches by
  plus its new points (a rule whose condition stays: one condition, the difference of points).
  No other rule is evaluated, no other lead read.
- **Classes** (grade, band, rank, temperature): computed again for the leads whose fit or
  score changed (of the scores a repoint moved, only those that cross a band or the MQL
  score: ``record_repointed``), and for those a new threshold, temperature matrix or MQL
  condition can move, found from their stored values: fit points between an old and a new
  grade threshold, a score between an old and a new band or MQL threshold, a rank whose
  temperature changed, a grade that became or stopped being one the MQL rule promotes. The
  MQL rule and the review flags still run over every lead, as before (a lead sent back to
  nurture that still qualifies is promoted again by any save, as by the nightly job).

Per range of leads, the leads whose fit or score changed are collected in CHANGED_TABLE (with
the fit difference); ``selection_sql`` reads the candidates from it and from the stored values.
Exact only while every stored fit is the old rules' sum: a save holds ``services.FIT_LOCK`` so
that no lead is graded from the new rules before the rescoring reaches it.
"""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, Expression, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from leads.models import Lead, LeadScore
from scoring import ledger
from scoring.conditions import grade_rule_condition
from scoring.ledger import MOVED_TABLE, TOUCHED_TABLE
from scoring.models import BehaviourRule, ScoringProfile
from scoring.proposals import RANKS, FitChange
from scoring.services import band_sql

# The leads of a range whose fit or score changed, with the fit difference (temporary).
CHANGED_TABLE = "scoring_changed"
CONDITION_FIELDS = ("field", "operator", "value")


def changed_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CHANGED_TABLE} (lead_id BIGINT, fit_delta INTEGER)"
        )


def changed_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED_TABLE}")


def record_touched() -> None:
    """The leads whose ledger the range's rebuild changed (``ledger.ledger_rebuild``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CHANGED_TABLE} (lead_id, fit_delta)"
            f" SELECT DISTINCT lead_id, 0 FROM {TOUCHED_TABLE}"
        )


def band_crossed_sql(*, profile: ScoringProfile, before: dict[str, Any]) -> tuple[str, list]:
    """A condition on ``score_before`` and ``score`` (``ledger.MOVED_TABLE``'s columns): the
    band, or the side of the MQL score, differs between the old score under the old thresholds
    and the new score under the new ones."""
    after = {name: getattr(profile, name) for name in before}

    def band_and_mql(column: str, thresholds: dict[str, Any]) -> tuple[str, list]:
        band, params = band_sql(column, thresholds)
        return (
            f"({band} || CASE WHEN {column} >= %s THEN 'm' ELSE '' END)",
            [*params, thresholds["mql_min_score"]],
        )

    old_sql, old_params = band_and_mql("score_before", before)
    new_sql, new_params = band_and_mql("score", after)
    return f"{old_sql} <> {new_sql}", [*old_params, *new_params]


def repoint(
    *,
    rules: list[BehaviourRule],
    lead_range: tuple[int, int],
    profile: ScoringProfile,
    before: dict[str, Any] | None,
    now: datetime,
    adjust_scores: bool,
) -> None:
    """``ledger.ledger_repoint`` for a rescoring; given the profile as it was (``before``: the
    rescoring narrows, and moves the scores), the leads whose band the moves cross are
    recorded."""
    narrow = before is not None
    ledger.ledger_repoint(
        rules=rules,
        lead_range=lead_range,
        half_life_days=profile.half_life_days,
        now=now,
        adjust_scores=adjust_scores,
        moved_kept=band_crossed_sql(profile=profile, before=before) if narrow else None,
    )
    if narrow:
        record_repointed(profile=profile, before=before)


def record_repointed(*, profile: ScoringProfile, before: dict[str, Any]) -> None:
    """Of the leads whose score the range's repoint moved (``ledger.ledger_repoint``), those
    whose band (or side of the MQL score) the move crossed (``band_crossed_sql``). The others
    keep grade (their fit did not change), band, rank and temperature: every writer of a score
    writes the classes from it in the same transaction (``event_score``, the rescoring, the
    nightly decay), so a stored rank is its stored grade and the band of its stored score."""
    crossed, params = band_crossed_sql(profile=profile, before=before)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CHANGED_TABLE} (lead_id, fit_delta)"
            f" SELECT lead_id, 0 FROM {MOVED_TABLE} WHERE {crossed}",
            params,
        )


def _same_condition(change: FitChange) -> bool:
    before, after = change.before, change.after
    return (
        before is not None
        and after is not None
        and all(getattr(before, name) == getattr(after, name) for name in CONDITION_FIELDS)
    )


def record_fit_deltas(*, leads: QuerySet[Lead], fit_changes: list[FitChange]) -> None:
    """The fit difference of each lead of ``leads`` that a changed rule's old or new condition
    matches, where it is not 0."""
    terms: list[tuple[Q, int]] = []
    for change in fit_changes:
        if _same_condition(change):
            terms.append(
                (grade_rule_condition(change.after), change.after.points - change.before.points)
            )
            continue
        if change.before is not None:
            terms.append((grade_rule_condition(change.before), -change.before.points))
        if change.after is not None:
            terms.append((grade_rule_condition(change.after), change.after.points))
    terms = [(condition, points) for condition, points in terms if points]
    if not terms:
        return
    delta: Expression = Value(0)
    matched = Q()
    for condition, points in terms:
        delta = delta + Case(
            When(condition, then=Value(points)), default=Value(0), output_field=IntegerField()
        )
        matched |= condition
    source_sql, params = (
        leads.filter(matched)
        .order_by()
        .values("id", fit_delta=Coalesce(delta, Value(0), output_field=IntegerField()))
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {CHANGED_TABLE} (lead_id, fit_delta)
                SELECT d."id", d."fit_delta" FROM ({source_sql}) d WHERE d."fit_delta" <> 0""",
            params,
        )


def _temperature(profile: dict[str, Any], rank: str) -> str:
    if rank in profile["hot_ranks"]:
        return "hot"
    return "warm" if rank in profile["warm_ranks"] else "cold"


def _movable_sql(
    profile: ScoringProfile, before: dict[str, Any], lead_range: tuple[int, int]
) -> tuple[list[str], list]:
    """SELECTs of the ids of the range's leads whose classes or MQL verdict the new thresholds,
    matrix or MQL condition can change although their fit and score stay, from their stored
    values: the score table's for thresholds of fit and score, the lead table's for ranks and
    grades."""
    leads = connection.ops.quote_name(Lead._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    after = {name: getattr(profile, name) for name in before}
    of_scores, score_params = [], []
    for name, column in (
        ("grade_a_min", "fit_points"),
        ("grade_b_min", "fit_points"),
        ("grade_c_min", "fit_points"),
        ("band_1_min", "behaviour_score"),
        ("band_2_min", "behaviour_score"),
        ("band_3_min", "behaviour_score"),
        ("mql_min_score", "behaviour_score"),
    ):
        old, new = before[name], after[name]
        if old != new:  # [x >= threshold] differs between the two for min <= x < max only
            of_scores.append(f'("{column}" >= %s AND "{column}" < %s)')
            score_params += [min(old, new), max(old, new)]
    of_leads, lead_params = [], []
    ranks = [rank for rank in RANKS if _temperature(before, rank) != _temperature(after, rank)]
    if ranks:
        of_leads.append(f'"rank" IN ({", ".join(["%s"] * len(ranks))})')
        lead_params += ranks
    grades = sorted(set(before["mql_grades"]) ^ set(after["mql_grades"]))
    if grades:
        of_leads.append(f'"grade" IN ({", ".join(["%s"] * len(grades))})')
        lead_params += grades
    selects, params = [], []
    for table, column, conditions, condition_params in (
        (scores, "lead_id", of_scores, score_params),
        (leads, "id", of_leads, lead_params),
    ):
        if conditions:
            selects.append(
                f'SELECT "{column}" FROM {table} WHERE "{column}" >= %s AND "{column}" < %s'
                f" AND ({' OR '.join(conditions)})"
            )
            params += [*lead_range, *condition_params]
    return selects, params


def mostly_changed(*, leads_in_range: int) -> bool:
    """Whether most leads of the range changed fit or score (a behaviour rule most leads have
    rows of): then reading every lead of the range in order is cheaper than finding them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(DISTINCT lead_id) FROM {CHANGED_TABLE}")
        return cursor.fetchone()[0] * 2 > leads_in_range


def selection_sql(
    *,
    lead_range: tuple[int, int],
    profile: ScoringProfile,
    before: dict[str, Any],
    score_sql: str,
    score_params: list,
    every_lead: bool = False,
) -> tuple[str, list]:
    """The columns ``rescoring._materialise`` classifies: new fit = stored fit + the recorded
    difference, new score = ``score_sql``; for the candidates of the range only (found first,
    then their rows read by primary key), or with ``every_lead`` for all leads of the range."""
    leads = connection.ops.quote_name(Lead._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    columns = f"""{leads}."id", {leads}."stage", {leads}."grade", {leads}."rank",
               {leads}."temperature", {scores}."fit_points" + COALESCE(c.fit_delta, 0) AS new_fit,
               {score_sql} AS new_score, {scores}."behaviour_score", {scores}."fit_points" """
    deltas = f"""(SELECT lead_id, SUM(fit_delta) AS fit_delta FROM {CHANGED_TABLE}
                  WHERE fit_delta <> 0 GROUP BY lead_id) c"""
    if every_lead:
        sql = f"""
            SELECT {columns}
            FROM {leads} JOIN {scores} ON {scores}."lead_id" = {leads}."id"
            LEFT JOIN {deltas} ON c.lead_id = {leads}."id"
            WHERE {leads}."id" >= %s AND {leads}."id" < %s"""
        return sql, [*score_params, *lead_range]
    movable, movable_params = _movable_sql(profile, before, lead_range)
    candidates = " UNION ".join([f"SELECT lead_id FROM {CHANGED_TABLE}", *movable])
    sql = f"""
        SELECT {columns}
        FROM ({candidates}) k
        JOIN {leads} ON {leads}."id" = k.lead_id
        JOIN {scores} ON {scores}."lead_id" = k.lead_id
        LEFT JOIN {deltas} ON c.lead_id = k.lead_id"""
    return sql, [*score_params, *movable_params]

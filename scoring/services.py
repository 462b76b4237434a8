"""Scoring writes: fit grade, rank and temperature, computed in SQL for one lead or all of them.

There is one implementation of the arithmetic: ``_scored`` turns the active profile's rules into
SQL expressions over a queryset of leads, and ``leads_rescore_fit`` writes the result with one
``UPDATE … FROM (SELECT …)``, whether the queryset holds one lead (a new or edited lead) or a
million (a rule change). No lead is loaded into Python.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Event, Lead, Temperature
from scoring.models import BehaviourRule, GradeRule, MqlReview, ScoreEntry, ScoringProfile

MQL_RULE = "scoring:mql_threshold"
# Leads the MQL rule may promote: new ones and recycled ones that engage again.
PROMOTABLE = (Stage.UNQUALIFIED, Stage.NURTURE)

GRADES = ("A", "B", "C", "D")


def active_profile() -> ScoringProfile:
    profile = ScoringProfile.objects.filter(is_active=True).first()
    if profile is None:
        raise ScoringProfile.DoesNotExist("No active scoring profile: run the migrations.")
    return profile


def _values(rule: GradeRule) -> list[str]:
    return [part.strip() for part in rule.value.split(",") if part.strip()]


def grade_rule_condition(rule: GradeRule) -> Q:
    """The lead filter a grade rule stands for, e.g. seniority in (vp, c_level)."""
    values = _values(rule)
    if rule.operator == GradeRule.Operator.CONTAINS:
        condition = Q()
        for value in values:
            condition |= Q(**{f"{rule.field}__icontains": value})
        return condition if values else Q(pk__in=[])
    if rule.operator == GradeRule.Operator.IN:
        if rule.field in {GradeRule.Field.CITY, GradeRule.Field.JOB_TITLE}:
            condition = Q()
            for value in values:
                condition |= Q(**{f"{rule.field}__iexact": value})
            return condition if values else Q(pk__in=[])
        if rule.field == GradeRule.Field.COUNTRY:
            values = [value.upper() for value in values]
        return Q(**{f"{rule.field}__in": values})
    return Q(**{f"{rule.field}__{rule.operator}": _number(rule.value)})


def _number(value: str) -> Decimal:
    try:
        return Decimal(value.strip().replace("_", "").replace(" ", ""))
    except InvalidOperation as exc:
        raise ValidationError({"value": _("Enter a number.")}) from exc


def grade_rule_validate(rule: GradeRule) -> None:
    """Operator and value must fit the field: numbers compare, texts match."""
    numeric = rule.field == GradeRule.Field.ANNUAL_REVENUE
    comparing = rule.operator in {GradeRule.Operator.AT_LEAST, GradeRule.Operator.AT_MOST}
    if numeric != comparing:
        raise ValidationError(
            {
                "operator": _("Annual revenue is compared with “at least” or “at most”.")
                if numeric
                else _("Only annual revenue is compared with “at least” or “at most”.")
            }
        )
    if comparing:
        _number(rule.value)
    elif not _values(rule):
        raise ValidationError({"value": _("Enter at least one value.")})


def _scored(leads: QuerySet[Lead], profile: ScoringProfile, rules: list[GradeRule]) -> QuerySet:
    """``leads`` with new_fit, new_grade, new_rank and new_temperature computed in SQL."""
    fit = Value(0)
    for rule in rules:
        fit = fit + Case(
            When(grade_rule_condition(rule), then=Value(rule.points)),
            default=Value(0),
            output_field=IntegerField(),
        )
    grade = Case(
        When(new_fit__gte=profile.grade_a_min, then=Value("A")),
        When(new_fit__gte=profile.grade_b_min, then=Value("B")),
        When(new_fit__gte=profile.grade_c_min, then=Value("C")),
        default=Value("D"),
    )
    band = Case(
        When(behaviour_score__gte=profile.band_1_min, then=Value("1")),
        When(behaviour_score__gte=profile.band_2_min, then=Value("2")),
        When(behaviour_score__gte=profile.band_3_min, then=Value("3")),
        default=Value("4"),
    )
    temperature = Case(
        When(new_rank__in=profile.hot_ranks, then=Value(Temperature.HOT.value)),
        When(new_rank__in=profile.warm_ranks, then=Value(Temperature.WARM.value)),
        default=Value(Temperature.COLD.value),
    )
    return (
        leads.order_by()
        .annotate(new_fit=Coalesce(fit, Value(0), output_field=IntegerField()))
        .annotate(new_grade=grade, new_band=band)
        .annotate(new_rank=Concat("new_grade", "new_band"))
        .annotate(new_temperature=temperature)
    )


@transaction.atomic
def leads_rescore_fit(*, leads: QuerySet[Lead] | None = None) -> int:
    """Recompute fit points, grade, rank and temperature of ``leads`` (default: all) from the
    active profile in one UPDATE; returns how many leads changed."""
    profile = active_profile()
    rules = list(profile.grade_rules.all())
    selection = _scored(leads if leads is not None else Lead.objects.all(), profile, rules)
    select_sql, params = selection.values(
        "id", "new_fit", "new_grade", "new_rank", "new_temperature"
    ).query.sql_with_params()
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql = f"""
        UPDATE {table} SET "fit_points" = s."new_fit", "grade" = s."new_grade",
               "rank" = s."new_rank", "temperature" = s."new_temperature"
        FROM ({select_sql}) AS s
        WHERE {table}."id" = s."id" AND ({table}."fit_points" <> s."new_fit"
               OR {table}."grade" <> s."new_grade" OR {table}."rank" <> s."new_rank"
               OR {table}."temperature" <> s."new_temperature")
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def lead_rescore_fit(*, lead_id: int) -> bool:
    """Score one new or edited lead; True when its grade, rank or temperature changed."""
    return leads_rescore_fit(leads=Lead.objects.filter(pk=lead_id)) > 0


def _decayed_sum_sql(*, half_life_days: int) -> tuple[str, list]:
    """SQL of the sum of points * 0.5^(age in days / half-life) per lead, as of now."""
    now = timezone.now()
    table = connection.ops.quote_name(ScoreEntry._meta.db_table)
    if connection.vendor == "postgresql":
        age_days = 'EXTRACT(EPOCH FROM (%s::timestamptz - "at")) / 86400.0'
        now_param = now
    else:  # SQLite stores UTC as text; julianday() reads it.
        age_days = 'julianday(%s) - julianday("at")'
        now_param = now.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    sql = (
        f'SELECT "lead_id", SUM("points" * POWER(0.5, ({age_days}) / %s)) AS "score" '
        f'FROM {table} GROUP BY "lead_id"'
    )
    return sql, [now_param, float(half_life_days)]


def _refresh_behaviour_scores(*, lead_id: int | None, half_life_days: int) -> None:
    """Write the decayed ledger sum into ``Lead.behaviour_score`` for one lead or all."""
    select_sql, params = _decayed_sum_sql(half_life_days=half_life_days)
    table = connection.ops.quote_name(Lead._meta.db_table)
    only_one = ""
    if lead_id is not None:
        select_sql = select_sql.replace(" GROUP BY", ' WHERE "lead_id" = %s GROUP BY')
        params = [*params, lead_id]
        only_one = f' AND {table}."id" = %s'
        params.append(lead_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET "behaviour_score" = ROUND(CAST(s."score" AS NUMERIC), 2)
                FROM ({select_sql}) AS s
                WHERE {table}."id" = s."lead_id"{only_one}
                  AND {table}."behaviour_score" <> ROUND(CAST(s."score" AS NUMERIC), 2)""",
            params,
        )


def _rule_matches(rule: BehaviourRule, event: Event) -> bool:
    if rule.event_kind != event.kind:
        return False
    if not rule.pattern:
        return True
    pattern = rule.pattern.lower()
    return any(fnmatchcase(value.lower(), pattern) for value in (event.url, event.asset) if value)


def _points_allowed(*, rule: BehaviourRule, lead_id: int, at: datetime) -> int:
    """The points ``rule`` may still give for an event at ``at``: 0 when it has fired as often as
    it may, fewer than its points when the cap for the period is nearly reached."""
    entries = ScoreEntry.objects.filter(lead_id=lead_id, rule=rule)
    if rule.frequency == BehaviourRule.Frequency.ONCE_EVER and entries.exists():
        return 0
    if rule.frequency == BehaviourRule.Frequency.ONCE_PER_DAY:
        day = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
        if entries.filter(at__gte=day, at__lt=day + timedelta(days=1)).exists():
            return 0
    if rule.cap_points is None or rule.points <= 0:
        return rule.points
    given = entries.filter(at__gt=at - timedelta(days=rule.cap_days), at__lte=at).aggregate(
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
    _refresh_behaviour_scores(lead_id=lead.pk, half_life_days=profile.half_life_days)
    leads_rescore_fit(leads=Lead.objects.filter(pk=lead.pk))
    _promote_if_qualified(lead_id=lead.pk, profile=profile)
    return entries


def _promote_if_qualified(*, lead_id: int, profile: ScoringProfile) -> None:
    qualified = Lead.objects.filter(
        pk=lead_id,
        stage__in=PROMOTABLE,
        grade__in=list(profile.mql_grades),
        behaviour_score__gte=profile.mql_min_score,
    ).exists()
    if qualified:
        lead_services.lead_transition(lead_id=lead_id, to_stage=Stage.MQL, by_rule=MQL_RULE)


@transaction.atomic
def leads_refresh_decay() -> dict[str, int]:
    """Nightly, set-based: decayed scores as of now for every lead with a ledger, then ranks and
    temperatures, then MQLs that fell below the MQL condition are flagged for review (not moved)."""
    profile = active_profile()
    _refresh_behaviour_scores(lead_id=None, half_life_days=profile.half_life_days)
    changed = leads_rescore_fit()
    below = Lead.objects.filter(stage=Stage.MQL, mql_review__isnull=True).exclude(
        grade__in=list(profile.mql_grades), behaviour_score__gte=profile.mql_min_score
    )
    flagged = MqlReview.objects.bulk_create(
        MqlReview(lead_id=lead_id, behaviour_score=score, grade=grade)
        for lead_id, score, grade in below.values_list("id", "behaviour_score", "grade")
    )
    return {"ranks_changed": changed, "flagged": len(flagged)}

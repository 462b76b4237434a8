"""Scoring writes: fit grade, rank and temperature, computed in SQL for one lead or all of them.

There is one implementation of the arithmetic: ``_scored`` turns the active profile's rules into
SQL expressions over a queryset of leads, and ``leads_rescore_fit`` writes the result with one
``UPDATE … FROM (SELECT …)``, whether the queryset holds one lead (a new or edited lead) or a
million (a rule change). No lead is loaded into Python.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils.translation import gettext as _

from leads.models import Lead, Temperature
from scoring.models import GradeRule, ScoringProfile

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

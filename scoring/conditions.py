"""What a grade rule means: the lead filter it stands for, and which values it accepts."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from scoring.models import GradeRule


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

"""A proposal: the whole profile and its rules as plain data, the way an admin edits them.

Previews and saves take a proposal, so what was previewed is exactly what gets saved; a saved
proposal is also the snapshot a ``ProfileVersion`` keeps. Shape::

    {"profile": {"name": …, "grade_a_min": 75, …, "hot_ranks": ["A1", …], "mql_grades": "AB"},
     "grade_rules": [{"id": 3, "field": "seniority", "operator": "in", "value": "vp",
                      "points": 30}, …],
     "behaviour_rules": [{"id": null, "name": …, "event_kind": …, "pattern": "", "points": 15,
                          "frequency": "once_per_day", "cap_points": 30, "cap_days": 7}, …]}

A rule without an id is new; a rule of the profile missing from the proposal is deleted; the
list order is the rules' order.
"""

import copy
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring.conditions import grade_rule_validate
from scoring.models import BehaviourRule, GradeRule, ProfileVersion, ScoringProfile

PROFILE_FIELDS = (
    "name",
    "grade_a_min",
    "grade_b_min",
    "grade_c_min",
    "band_1_min",
    "band_2_min",
    "band_3_min",
    "half_life_days",
    "hot_ranks",
    "warm_ranks",
    "mql_grades",
    "mql_min_score",
)
GRADE_RULE_FIELDS = ("field", "operator", "value", "points")
BEHAVIOUR_RULE_FIELDS = (
    "name",
    "event_kind",
    "pattern",
    "points",
    "frequency",
    "cap_points",
    "cap_days",
)
# What a behaviour rule scores: a change of any of these derives its ledger rows again.
BEHAVIOUR_SCORING_FIELDS = frozenset(BEHAVIOUR_RULE_FIELDS) - {"name"}
RANKS = [grade + band for grade in "ABCD" for band in "1234"]


def snapshot(profile: ScoringProfile) -> dict[str, Any]:
    """The profile and its rules as a proposal (the form's starting point, a version's record)."""
    return {
        "profile": {name: getattr(profile, name) for name in PROFILE_FIELDS},
        "grade_rules": [
            {"id": rule.pk, **{name: getattr(rule, name) for name in GRADE_RULE_FIELDS}}
            for rule in profile.grade_rules.all()
        ],
        "behaviour_rules": [
            {"id": rule.pk, **{name: getattr(rule, name) for name in BEHAVIOUR_RULE_FIELDS}}
            for rule in profile.behaviour_rules.all()
        ],
    }


def _model_errors(instance, prefix: str, exclude: list[str]) -> dict[str, list[str]]:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return {f"{prefix}{field}": messages for field, messages in exc.message_dict.items()}
    return {}


def _profile_errors(profile: ScoringProfile) -> dict[str, list[str]]:
    errors = _model_errors(profile, "profile.", exclude=["version", "updated_by"])
    if errors:
        return errors
    if not profile.grade_a_min > profile.grade_b_min > profile.grade_c_min:
        errors["profile.grade_b_min"] = [_("Grade thresholds must fall from A to C.")]
    if not profile.band_1_min > profile.band_2_min > profile.band_3_min:
        errors["profile.band_2_min"] = [_("Band thresholds must fall from 1 to 3.")]
    for name in ("hot_ranks", "warm_ranks"):
        ranks = getattr(profile, name)
        if not isinstance(ranks, list) or any(rank not in RANKS for rank in ranks):
            errors[f"profile.{name}"] = [_("Use ranks from A1 to D4.")]
    ranks_valid = "profile.hot_ranks" not in errors and "profile.warm_ranks" not in errors
    if ranks_valid and (both := sorted(set(profile.hot_ranks) & set(profile.warm_ranks))):
        errors["profile.warm_ranks"] = [
            _("A rank cannot be hot and warm: %(ranks)s.") % {"ranks": ", ".join(both)}
        ]
    grades = profile.mql_grades
    if not grades or any(grade not in "ABCD" for grade in grades) or len(set(grades)) < len(grades):
        errors["profile.mql_grades"] = [_("Give one or more of the grades A, B, C and D.")]
    return errors


def _cap_errors(rule: BehaviourRule, prefix: str) -> dict[str, list[str]]:
    if (rule.cap_points is None) != (rule.cap_days is None):
        return {f"{prefix}cap_days": [_("Give a cap with its period.")]}
    return {}


def clean(proposal: Any, *, profile: ScoringProfile) -> dict[str, Any]:
    """The proposal for ``profile`` checked field by field; ValidationError keyed like
    ``grade_rules.2.value``."""
    if not isinstance(proposal, dict):
        raise ValidationError({"proposal": _("Send the profile and its rules.")})
    errors: dict[str, list[str]] = {}
    data = proposal.get("profile")
    if not isinstance(data, dict):
        raise ValidationError({"profile": _("This field is required.")})
    proposed = ScoringProfile(**{name: data.get(name) for name in PROFILE_FIELDS})
    if isinstance(proposed.mql_grades, str):
        proposed.mql_grades = "".join(sorted(proposed.mql_grades.upper()))
    errors.update(_profile_errors(proposed))
    cleaned: dict[str, Any] = {
        "profile": {name: getattr(proposed, name) for name in PROFILE_FIELDS},
        "grade_rules": [],
        "behaviour_rules": [],
    }
    for key, model, fields in (
        ("grade_rules", GradeRule, GRADE_RULE_FIELDS),
        ("behaviour_rules", BehaviourRule, BEHAVIOUR_RULE_FIELDS),
    ):
        rows = proposal.get(key, [])
        ids = set(model.objects.filter(profile=profile).values_list("pk", flat=True))
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            errors[key] = [_("Send a list of rules.")]
            continue
        for index, row in enumerate(rows):
            rule = model(**{name: row.get(name) for name in fields})
            if key == "behaviour_rules":
                rule.pattern = (rule.pattern or "").strip()
            prefix = f"{key}.{index}."
            rule_errors = _model_errors(rule, prefix, exclude=["profile", "position"])
            if not rule_errors and key == "grade_rules":
                try:
                    grade_rule_validate(rule)
                except ValidationError as exc:
                    rule_errors = {f"{prefix}{f}": m for f, m in exc.message_dict.items()}
            if not rule_errors and key == "behaviour_rules":
                rule_errors = _cap_errors(rule, prefix)
            rule_id = row.get("id")
            if rule_id is not None and (isinstance(rule_id, bool) or rule_id not in ids):
                rule_errors[f"{prefix}id"] = [_("This rule is not in the profile.")]
            errors.update(rule_errors)
            cleaned[key].append({"id": rule_id, **{name: getattr(rule, name) for name in fields}})
    if errors:
        raise ValidationError(errors)
    return cleaned


@dataclass(frozen=True)
class FitChange:
    """A grade rule added (``before`` None), deleted (``after`` None) or changed in its condition
    or points, as it was and as it is: a rescoring moves the fit of the leads either matches by
    the difference, and evaluates no other rule."""

    before: GradeRule | None
    after: GradeRule | None


@dataclass(frozen=True)
class Written:
    """What a saved proposal asks of the rescoring: the behaviour rules whose ledger rows must
    be derived again (new ones, and those changed in what they score), the rules whose rows stay
    and only take new points (``repoint``: nothing but the points changed, and ``keeps_rows``
    says no event gains a row by it), whether every lead's score must be decayed again
    (a new half-life, or a deleted rule whose rows, and so the leads they touched, are gone),
    whether fit points must be computed again from every rule (``refit``; a save moves them by
    the ``fit_changes`` instead), and the profile's thresholds, matrix and MQL condition as they
    were (``profile_before``): with it, only the leads whose fit or score changed and those the
    new thresholds can move are classified again; without it, every lead."""

    rebuild: list[BehaviourRule]
    decay_all: bool
    repoint: list[BehaviourRule] = field(default_factory=list)
    refit: bool = True
    fit_changes: list[FitChange] = field(default_factory=list)
    profile_before: dict[str, Any] | None = None


def write(
    *, profile: ScoringProfile, proposal: dict[str, Any], by_user: AbstractBaseUser | None
) -> Written:
    """Make ``profile`` and its rules what the cleaned ``proposal`` says and record the new version
    (the caller holds the profile's lock). Deleting a rule deletes its ledger rows."""
    if not ProfileVersion.objects.filter(profile=profile, version=profile.version).exists():
        # The version being replaced was never saved here (the starter profile of the migration):
        # record it first, so the history can say what this save changed.
        ProfileVersion.objects.create(
            profile=profile,
            version=profile.version,
            snapshot=snapshot(profile),
            saved_by=profile.updated_by,
            saved_at=profile.updated_at,
        )
    half_life_before = profile.half_life_days
    profile_before = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    for name, value in proposal["profile"].items():
        setattr(profile, name, value)
    profile.version += 1
    profile.updated_at = timezone.now()
    profile.updated_by = by_user
    profile.save()
    grade_rules = _write_rules(profile, GradeRule, proposal["grade_rules"])
    behaviour_rules_before = BehaviourRule.objects.filter(profile=profile).count()
    behaviour_rules = _write_rules(profile, BehaviourRule, proposal["behaviour_rules"])
    kept = len(proposal["behaviour_rules"]) - sum(
        1 for row in proposal["behaviour_rules"] if row["id"] is None
    )
    ProfileVersion.objects.create(
        profile=profile, version=profile.version, snapshot=snapshot(profile), saved_by=by_user
    )
    return Written(
        rebuild=behaviour_rules.changed,
        repoint=behaviour_rules.repoint,
        decay_all=profile.half_life_days != half_life_before or kept < behaviour_rules_before,
        refit=False,
        fit_changes=grade_rules.fit_changes,
        profile_before=profile_before,
    )


def keeps_rows(*, points_before: int, points: int, cap_points: int | None) -> bool:
    """Whether a behaviour rule whose points alone change (same kind, pattern, frequency and cap)
    keeps its ledger rows, so that they can take their new points in place
    (``ledger.ledger_repoint``) instead of being derived again from the events.

    A row exists for each event the rule fires on and gives points to (``given <> 0``). Without
    a cap, or with points below 0 (a cap limits gains only), every firing gives the rule's
    points: the same rows, if neither the old nor the new points are 0 (0 points write no row)
    and the sign stays. With a cap C per period, the n-th firing of a period gives
    min(p, C - (n - 1)·p) if that is above 0: the first ⌈C/p⌉ firings give points. Raising the
    points keeps or shortens that run (its last rows fall to 0 and are deleted); lowering them
    may lengthen it, to events that have no row yet: those need the events, a derivation."""
    if points_before == 0 or points == 0 or (points_before > 0) != (points > 0):
        return False
    if cap_points is None or points < 0:
        return True
    return -(-cap_points // points) <= -(-cap_points // points_before)


@dataclass(frozen=True)
class _Saved:
    changed: list  # new rules and those changed in what they score
    repoint: list  # behaviour rules that only take new points (Written.repoint)
    deleted: int
    fit_changes: list[FitChange]  # grade rules: each changed one as it was and as it is


def _write_rules(profile: ScoringProfile, model, rows: list[dict]) -> _Saved:
    """Save ``rows`` as the profile's rules of ``model``, the others deleted."""
    existing = {rule.pk: rule for rule in model.objects.filter(profile=profile)}
    kept = {row["id"] for row in rows if row["id"] is not None}
    fit_changes = [
        FitChange(before=rule, after=None)
        for pk, rule in existing.items()
        if pk not in kept and model is GradeRule
    ]
    deleted, _by_model = model.objects.filter(profile=profile).exclude(pk__in=kept).delete()
    scoring_fields = (
        BEHAVIOUR_SCORING_FIELDS if model is BehaviourRule else frozenset(GRADE_RULE_FIELDS)
    )
    changed, repoint = [], []
    for position, row in enumerate(rows):
        values = {name: value for name, value in row.items() if name != "id"}
        rule = existing.get(row["id"]) or model(profile=profile)
        is_new = rule.pk is None
        differing = {
            name
            for name in scoring_fields.intersection(values)
            if getattr(rule, name) != values[name]
        }
        if model is GradeRule and (is_new or differing):
            before = None if is_new else copy.copy(rule)
            fit_changes.append(FitChange(before=before, after=rule))
        points_before = rule.points
        for name, value in values.items():
            setattr(rule, name, value)
        rule.position = position
        rule.save()
        if is_new or (differing and model is GradeRule):
            changed.append(rule)
        elif differing == {"points"} and keeps_rows(
            points_before=points_before, points=rule.points, cap_points=rule.cap_points
        ):
            repoint.append(rule)
        elif differing:
            changed.append(rule)
    return _Saved(changed=changed, repoint=repoint, deleted=deleted, fit_changes=fit_changes)

"""Reads of scoring results: why a lead has the grade and score it has."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads.models import Lead
from scoring.conditions import grade_rule_condition
from scoring.models import BehaviourRule, GradeRule, ProfileVersion, ScoreEntry, ScoringProfile
from scoring.services import active_profile

BREAKDOWN_LIMIT = 200


@dataclass(frozen=True)
class PointsNow:
    entry: ScoreEntry
    value_now: float
    halves_next_at: datetime


@dataclass(frozen=True)
class MqlReviewFlag:
    flagged_at: datetime
    behaviour_score: float
    grade: str


@dataclass(frozen=True)
class ScoreBreakdown:
    fit_points: int
    grade: str
    behaviour_score: float
    rank: str
    temperature: str
    half_life_days: int
    matched_grade_rules: list[GradeRule]
    unmatched_grade_rules: list[GradeRule]
    points: list[PointsNow]
    # An MQL whose score or grade fell below the MQL condition waits for a person (MqlReview).
    review: MqlReviewFlag | None = None


def lead_score_breakdown(*, lead: Lead, now: datetime | None = None) -> ScoreBreakdown:
    """Every behaviour point of ``lead`` (newest first) with what it is worth now and when it next
    halves, which grade rules matched and whether the lead is flagged for MQL review, in four
    queries."""
    now = now or timezone.now()
    profile = active_profile()
    rules = list(profile.grade_rules.all())
    review_fields = ["mql_review__flagged_at", "mql_review__behaviour_score", "mql_review__grade"]
    flags = Lead.objects.filter(pk=lead.pk).annotate(
        **{
            f"rule_{rule.pk}": Case(
                When(grade_rule_condition(rule), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
            for rule in rules
        }
    )
    score_fields = ["score__fit_points", "score__behaviour_score"]
    matches = (
        flags.values(*(f"rule_{rule.pk}" for rule in rules), *review_fields, *score_fields).first()
        or {}
    )
    review = None
    if matches.get("mql_review__flagged_at") is not None:
        review = MqlReviewFlag(*(matches[name] for name in review_fields))
    half_life = timedelta(days=profile.half_life_days)
    points = []
    entries = (
        ScoreEntry.objects.filter(lead=lead)
        .select_related("rule", "event")
        .order_by("-at", "-id")[:BREAKDOWN_LIMIT]
    )
    for entry in entries:
        halvings = max(now - entry.at, timedelta(0)) / half_life
        points.append(
            PointsNow(
                entry=entry,
                value_now=round(entry.points * 0.5**halvings, 2),
                halves_next_at=entry.at + half_life * (math.floor(halvings) + 1),
            )
        )
    return ScoreBreakdown(
        fit_points=matches.get("score__fit_points") or 0,
        grade=lead.grade,
        behaviour_score=round(matches.get("score__behaviour_score") or 0.0, 2),
        rank=lead.rank,
        temperature=lead.temperature,
        half_life_days=profile.half_life_days,
        matched_grade_rules=[r for r in rules if matches.get(f"rule_{r.pk}")],
        unmatched_grade_rules=[r for r in rules if not matches.get(f"rule_{r.pk}")],
        points=points,
        review=review,
    )


# Versions ----------------------------------------------------------------------------------------

PROFILE_LABELS = {
    "name": gettext_lazy("Name"),
    "grade_a_min": gettext_lazy("Grade A from"),
    "grade_b_min": gettext_lazy("Grade B from"),
    "grade_c_min": gettext_lazy("Grade C from"),
    "band_1_min": gettext_lazy("Band 1 from"),
    "band_2_min": gettext_lazy("Band 2 from"),
    "band_3_min": gettext_lazy("Band 3 from"),
    "half_life_days": gettext_lazy("Half-life (days)"),
    "hot_ranks": gettext_lazy("Hot ranks"),
    "warm_ranks": gettext_lazy("Warm ranks"),
    "mql_grades": gettext_lazy("MQL grades"),
    "mql_min_score": gettext_lazy("MQL from score"),
}


@dataclass(frozen=True)
class VersionEntry:
    version: int
    saved_by: str
    saved_at: datetime | None
    changes: list[str]
    # Version 1, the starter profile, when no save has recorded it yet.
    is_start: bool = False


def _show(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choice(model, name: str, value: Any) -> str:
    labels = dict(model._meta.get_field(name).choices or [])
    return str(labels.get(value, _show(value)))


def grade_rule_label(rule: dict) -> str:
    """“Seniority is one of vp”: how the history names a grade rule."""
    return (
        f"{_choice(GradeRule, 'field', rule['field'])} "
        f"{_choice(GradeRule, 'operator', rule['operator'])} {rule['value']}"
    )


def _rule_value(model, name: str, value: Any) -> str:
    if model._meta.get_field(name).choices:
        return _choice(model, name, value)
    return _show(value)


def snapshot_changes(old: dict, new: dict) -> list[str]:
    """What changed from one saved proposal to the next, as readable lines."""
    lines = []
    for name, label in PROFILE_LABELS.items():
        before, after = old["profile"].get(name), new["profile"].get(name)
        if name in {"hot_ranks", "warm_ranks"}:
            before, after = sorted(before or []), sorted(after or [])
        if before != after:
            lines.append(
                _("%(field)s: %(old)s → %(new)s")
                % {"field": label, "old": _show(before), "new": _show(after)}
            )
    lines += _rule_changes(
        old["grade_rules"],
        new["grade_rules"],
        model=GradeRule,
        fields=("field", "operator", "value", "points"),
        label=grade_rule_label,
        kind=_("Grade rule"),
    )
    lines += _rule_changes(
        old["behaviour_rules"],
        new["behaviour_rules"],
        model=BehaviourRule,
        fields=("name", "event_kind", "pattern", "points", "frequency", "cap_points", "cap_days"),
        label=lambda rule: rule["name"],
        kind=_("Behaviour rule"),
    )
    return lines


def _rule_changes(old_rules, new_rules, *, model, fields, label, kind) -> list[str]:
    lines = []
    before = {rule["id"]: rule for rule in old_rules}
    after_ids = {rule["id"] for rule in new_rules}
    for rule in new_rules:
        previous = before.get(rule["id"])
        if previous is None:
            lines.append(
                _("%(kind)s ‘%(rule)s’ added (%(points)+d points)")
                % {"kind": kind, "rule": label(rule), "points": rule["points"]}
            )
            continue
        for name in fields:
            if previous.get(name) != rule.get(name):
                lines.append(
                    _("%(kind)s ‘%(rule)s’ %(field)s %(old)s → %(new)s")
                    % {
                        "kind": kind,
                        "rule": label(previous),
                        "field": model._meta.get_field(name).verbose_name,
                        "old": _rule_value(model, name, previous.get(name)),
                        "new": _rule_value(model, name, rule.get(name)),
                    }
                )
    lines += [
        _("%(kind)s ‘%(rule)s’ deleted") % {"kind": kind, "rule": label(rule)}
        for rule in old_rules
        if rule["id"] not in after_ids
    ]
    kept_before = [rule["id"] for rule in old_rules if rule["id"] in after_ids]
    kept_after = [rule["id"] for rule in new_rules if rule["id"] in before]
    if kept_before != kept_after:
        lines.append(_("%(kind)s order changed") % {"kind": kind})
    return lines


def profile_version_history(
    *, profile: ScoringProfile, versions: list[ProfileVersion]
) -> list[VersionEntry]:
    """Each of ``versions`` (newest first, as ProfileVersion orders them) with what it changed
    against the version before it, which costs one more query for the oldest one's predecessor.
    The starter profile (version 1) without a row of its own is the history's starting point."""
    entries = []
    if not versions:
        if profile.version == 1:
            return [_starting_point()]
        return []
    oldest = versions[-1]
    previous = (
        ProfileVersion.objects.filter(profile=profile, version=oldest.version - 1)
        .values_list("snapshot", flat=True)
        .first()
    )
    snapshots = [version.snapshot for version in versions[1:]] + [previous]
    for version, before in zip(versions, snapshots, strict=True):
        if version.version == 1:
            changes: list[str] = []
        elif before is None:
            changes = [_("The version before is not recorded.")]
        else:
            changes = snapshot_changes(before, version.snapshot)
        entries.append(
            VersionEntry(
                version=version.version,
                saved_by=_user_name(version.saved_by),
                saved_at=version.saved_at,
                changes=changes,
                is_start=version.version == 1,
            )
        )
    if oldest.version == 2 and previous is None:
        entries.append(_starting_point())
    return entries


def _starting_point() -> VersionEntry:
    return VersionEntry(version=1, saved_by="", saved_at=None, changes=[], is_start=True)


def _user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def profile_in_force() -> ScoringProfile:
    """The active profile with who saved it last (the pages show both)."""
    return ScoringProfile.objects.select_related("updated_by").get(is_active=True)

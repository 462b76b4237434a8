"""Reads of scoring results: why a lead has the grade and score it has."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone

from leads.models import Lead
from scoring.conditions import grade_rule_condition
from scoring.models import GradeRule, ScoreEntry
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
    matches = flags.values(*(f"rule_{rule.pk}" for rule in rules), *review_fields).first() or {}
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
        fit_points=lead.fit_points,
        grade=lead.grade,
        behaviour_score=lead.behaviour_score,
        rank=lead.rank,
        temperature=lead.temperature,
        half_life_days=profile.half_life_days,
        matched_grade_rules=[r for r in rules if matches.get(f"rule_{r.pk}")],
        unmatched_grade_rules=[r for r in rules if not matches.get(f"rule_{r.pk}")],
        points=points,
        review=review,
    )

"""The product's rules, as the demo generator applies them while it draws leads.

Fit points, grade, rank and temperature come from the active scoring profile and its grade rules
(``scoring``): ``Scoring.load()`` reads them once, and ``Scoring.scores`` evaluates the rules in
Python the way ``scoring.services.grade_rule_condition`` does in SQL, so ``leads_rescore_fit``
over the generated leads changes nothing (a test checks this). The generator needs the grade
before it writes anything, because the grade decides whether the MQL rule can promote a lead.

Two stand-ins remain, both in this module and nowhere else:

- the behaviour score is drawn by stage (``_SCORE_RANGES``) instead of summed from the ScoreEntry
  ledger of the generated events (``scoring.services.event_score`` per event is too slow for a
  demo of thousands of leads; a set-based ledger fill would replace it);
- ``assign_owner`` is a territory round-robin: there are no assignment rules yet.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from leads.lifecycle import Stage
from leads.models import Temperature
from scoring.models import GradeRule, ScoringProfile
from scoring.services import MQL_RULE, active_profile

__all__ = ["MQL_RULE", "Scores", "Scoring", "assign_owner"]

# Behaviour score (low, most likely, high) by current stage: what the decayed ledger of a lead's
# events typically sums to there.
_SCORE_RANGES: dict[str, tuple[float, float, float]] = {
    Stage.UNQUALIFIED: (0.0, 8.0, 60.0),
    Stage.MQL: (50.0, 70.0, 160.0),
    Stage.SQL: (40.0, 90.0, 180.0),
    Stage.OPPORTUNITY: (30.0, 110.0, 200.0),
    Stage.CUSTOMER: (5.0, 30.0, 90.0),
    Stage.NURTURE: (0.0, 12.0, 60.0),
    Stage.DISQUALIFIED: (0.0, 3.0, 30.0),
}
# Stages the MQL rule promotes from (scoring.services.PROMOTABLE).
_PROMOTABLE = (Stage.UNQUALIFIED, Stage.NURTURE)


@dataclass(frozen=True, slots=True)
class Scores:
    grade: str
    fit_points: int
    behaviour_score: float
    rank: str
    temperature: str


@dataclass(frozen=True, slots=True)
class Rule:
    field: str
    operator: str
    values: tuple[str, ...]
    number: Decimal | None
    points: int


@dataclass(frozen=True)
class Scoring:
    grade_thresholds: tuple[tuple[int, str], ...]
    band_thresholds: tuple[tuple[float, int], ...]
    hot_ranks: frozenset[str]
    warm_ranks: frozenset[str]
    mql_grades: frozenset[str]
    mql_min_score: float
    rules: tuple[Rule, ...]

    @classmethod
    def load(cls) -> "Scoring":
        """The active profile and its grade rules, from the database."""
        profile = active_profile()
        return cls.from_profile(profile, list(profile.grade_rules.all()))

    @classmethod
    def from_profile(cls, profile: ScoringProfile, grade_rules: list[GradeRule]) -> "Scoring":
        rules = []
        for rule in grade_rules:
            values = tuple(part.strip() for part in rule.value.split(",") if part.strip())
            comparing = rule.operator in (GradeRule.Operator.AT_LEAST, GradeRule.Operator.AT_MOST)
            number = (
                Decimal(rule.value.strip().replace("_", "").replace(" ", "")) if comparing else None
            )
            rules.append(Rule(rule.field, rule.operator, values, number, rule.points))
        return cls(
            grade_thresholds=(
                (profile.grade_a_min, "A"),
                (profile.grade_b_min, "B"),
                (profile.grade_c_min, "C"),
            ),
            band_thresholds=(
                (profile.band_1_min, 1),
                (profile.band_2_min, 2),
                (profile.band_3_min, 3),
            ),
            hot_ranks=frozenset(profile.hot_ranks),
            warm_ranks=frozenset(profile.warm_ranks),
            mql_grades=frozenset(profile.mql_grades.upper()),
            mql_min_score=profile.mql_min_score,
            rules=tuple(rules),
        )

    def fit_points(self, values: dict[str, object]) -> int:
        """Σ points of the rules that match ``values`` (GradeRule field → value; None for a lead
        without company)."""
        return sum(rule.points for rule in self.rules if _matches(rule, values.get(rule.field)))

    def grade_for(self, points: int) -> str:
        for threshold, grade in self.grade_thresholds:
            if points >= threshold:
                return grade
        return "D"

    def can_become_mql(self, points: int) -> bool:
        return self.grade_for(points) in self.mql_grades

    def scores(self, rng: random.Random, *, points: int, stage: str) -> Scores:
        grade = self.grade_for(points)
        low, mode, high = _SCORE_RANGES[stage]
        score = round(rng.triangular(low, high, mode), 1)
        if stage in _PROMOTABLE and grade in self.mql_grades:
            # The MQL rule would already have promoted a good fit at the threshold.
            score = min(score, self.mql_min_score - 1)
        band = next((b for threshold, b in self.band_thresholds if score >= threshold), 4)
        rank = f"{grade}{band}"
        if rank in self.hot_ranks:
            temperature = Temperature.HOT
        elif rank in self.warm_ranks:
            temperature = Temperature.WARM
        else:
            temperature = Temperature.COLD
        return Scores(grade, points, score, rank, temperature)


def _matches(rule: Rule, value: object) -> bool:
    """One grade rule against one value, as ``scoring.services.grade_rule_condition`` in SQL:
    a missing value (NULL) matches nothing."""
    if value is None:
        return False
    if rule.number is not None:
        if value == "":
            return False
        number = Decimal(str(value))
        return number >= rule.number if rule.operator == "gte" else number <= rule.number
    text = str(value)
    if rule.operator == GradeRule.Operator.CONTAINS:
        return any(part.lower() in text.lower() for part in rule.values)
    if rule.field in (GradeRule.Field.CITY, GradeRule.Field.JOB_TITLE):
        return any(part.lower() == text.lower() for part in rule.values)
    if rule.field == GradeRule.Field.COUNTRY:
        return text in {part.upper() for part in rule.values}
    return text in rule.values


def assign_owner(*, country: str, number: int, reps: int) -> int:
    """Index of the rep (of ``reps``) who gets a lead: Germany goes to the first half of the team,
    the other countries to the second, round-robin by the lead's ``number`` within each."""
    if reps == 1:
        return 0
    half = reps // 2
    if country == "DE":
        return number % half
    return half + number % (reps - half)

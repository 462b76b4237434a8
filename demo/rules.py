"""The product's rules, as the demo generator needs them while it draws leads.

The generator must know a lead's grade before it writes anything, because the grade decides
whether the MQL rule can have promoted it: ``Scoring.load()`` reads the active profile's grade
rules once, and ``Scoring.fit_points`` evaluates them in Python the way
``scoring.services.grade_rule_condition`` does in SQL (a test checks that the scoring app then
agrees). Everything else about scores is the scoring app's: the writers store the leads unscored
(behaviour score 0) with their events, then ``scoring.rescoring.rescore_all`` derives the ledger,
the decayed scores, ranks, temperatures and MQL promotions the way the product does.

One stand-in remains: ``assign_owner`` is a territory round-robin (no assignment rules yet).
"""

from dataclasses import dataclass
from decimal import Decimal

from leads.models import Temperature
from scoring.models import GradeRule, ScoringProfile
from scoring.services import MQL_RULE, active_profile

__all__ = ["MQL_RULE", "Scores", "Scoring", "assign_owner"]


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
    hot_ranks: frozenset[str]
    warm_ranks: frozenset[str]
    mql_grades: frozenset[str]
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
            hot_ranks=frozenset(profile.hot_ranks),
            warm_ranks=frozenset(profile.warm_ranks),
            mql_grades=frozenset(profile.mql_grades.upper()),
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

    def unscored(self, points: int) -> Scores:
        """A lead as it is before any behaviour: its grade and band 4, to be scored afterwards."""
        grade = self.grade_for(points)
        rank = f"{grade}4"
        if rank in self.hot_ranks:
            temperature = Temperature.HOT
        elif rank in self.warm_ranks:
            temperature = Temperature.WARM
        else:
            temperature = Temperature.COLD
        return Scores(grade, points, 0.0, rank, temperature)


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

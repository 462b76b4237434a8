"""Stand-ins for the product rules the demo numbers should come from, until those rules exist.

Scoring (grade, behaviour score, rank, temperature, the MQL threshold) and assignment live in the
``scoring`` app and the lead services once they are built; until then the generator calls these
functions and nothing else for them. Each follows the defaults of DESIGN.md §3, so swapping in the
real rules changes where the numbers come from, not what they mean:

- ``fit_points`` → the default GradeRules applied to the lead and its company;
- ``behaviour_score`` → the ScoreEntry ledger of the lead's events, decayed;
- ``grade_for``, ``band_for``, ``temperature_for``, ``meets_mql_threshold`` → the configured
  thresholds and matrix;
- ``assign_owner`` → the assignment rules.
"""

import random
from dataclasses import dataclass

from leads.lifecycle import Stage
from leads.models import CompanySize, Grade, Industry, Seniority, Temperature

# Default grade rules: points per field value.
SENIORITY_POINTS: dict[str, int] = {
    Seniority.C_LEVEL: 30,
    Seniority.VP: 25,
    Seniority.DIRECTOR: 20,
    Seniority.MANAGER: 5,
    Seniority.STAFF: 0,
    Seniority.UNKNOWN: 0,
}
SIZE_POINTS: dict[str, int] = {
    CompanySize.S1_10: 0,
    CompanySize.S11_50: 10,
    CompanySize.S51_200: 25,
    CompanySize.S201_1000: 25,
    CompanySize.S1001_5000: 15,
    CompanySize.S5001_PLUS: 5,
    CompanySize.UNKNOWN: 0,
}
TARGET_INDUSTRIES = frozenset(
    {
        Industry.MANUFACTURING,
        Industry.MECHANICAL_ENGINEERING,
        Industry.SOFTWARE,
        Industry.IT_SERVICES,
        Industry.LOGISTICS,
        Industry.AUTOMOTIVE,
    }
)
HOME_MARKET = frozenset({"DE", "AT", "CH"})

GRADE_THRESHOLDS: tuple[tuple[int, str], ...] = ((75, Grade.A), (50, Grade.B), (25, Grade.C))
BAND_THRESHOLDS: tuple[tuple[float, int], ...] = ((100.0, 1), (50.0, 2), (20.0, 3))
HOT_RANKS = frozenset({"A1", "A2", "B1"})
WARM_RANKS = frozenset({"A3", "B2", "B3", "C1", "C2"})
MQL_GRADES = frozenset({Grade.A, Grade.B})
MQL_SCORE = 50.0

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


@dataclass(frozen=True, slots=True)
class Scores:
    grade: str
    fit_points: int
    behaviour_score: float
    rank: str
    temperature: str


def fit_points(*, seniority: str, size_band: str, industry: str, country: str) -> int:
    industry_points = 15 if industry in TARGET_INDUSTRIES else 5 if industry else 0
    return (
        SENIORITY_POINTS[seniority]
        + SIZE_POINTS[size_band]
        + industry_points
        + (10 if country in HOME_MARKET else 0)
    )


def grade_for(points: int) -> str:
    for threshold, grade in GRADE_THRESHOLDS:
        if points >= threshold:
            return grade
    return Grade.D


def band_for(behaviour_score: float) -> int:
    for threshold, band in BAND_THRESHOLDS:
        if behaviour_score >= threshold:
            return band
    return 4


def temperature_for(rank: str) -> str:
    if rank in HOT_RANKS:
        return Temperature.HOT
    if rank in WARM_RANKS:
        return Temperature.WARM
    return Temperature.COLD


def meets_mql_threshold(grade: str, behaviour_score: float) -> bool:
    return grade in MQL_GRADES and behaviour_score >= MQL_SCORE


def behaviour_score(rng: random.Random, *, stage: str, grade: str) -> float:
    low, mode, high = _SCORE_RANGES[stage]
    score = round(rng.triangular(low, high, mode), 1)
    if stage in (Stage.UNQUALIFIED, Stage.NURTURE) and grade in MQL_GRADES:
        # The MQL rule would already have promoted a good fit at the threshold.
        score = min(score, MQL_SCORE - 1)
    return score


def scores(rng: random.Random, *, points: int, stage: str) -> Scores:
    grade = grade_for(points)
    score = behaviour_score(rng, stage=stage, grade=grade)
    rank = f"{grade}{band_for(score)}"
    return Scores(grade, points, score, rank, temperature_for(rank))


def assign_owner(*, country: str, number: int, reps: int) -> int:
    """Index of the rep (of ``reps``) who gets a lead: Germany goes to the first half of the team,
    the other countries to the second, round-robin by the lead's ``number`` within each."""
    if reps == 1:
        return 0
    half = reps // 2
    if country == "DE":
        return number % half
    return half + number % (reps - half)

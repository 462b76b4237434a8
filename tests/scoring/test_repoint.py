"""A behaviour rule whose points alone change keeps its ledger rows: they take the new points in
place (clipped under a cap as the derivation clips them), the scores of their leads move by the
decayed difference, and no other row is written. Changes that give events new rows are derived
again from the events."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from leads.models import Lead, LeadScore
from scoring import proposals, services
from scoring import rescoring as rescorings
from scoring.models import BehaviourRule, Rescoring, ScoreEntry
from tests.concurrency import run_in_threads
from tests.factories import CompanyFactory, EventFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 2 March 2026 is a Monday
DAY_30 = MONDAY + timedelta(days=30)


def lead_with_fit() -> Lead:
    """c_level 30 + "CEO" 15 + DE 10: 55 fit points, B."""
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(seniority="c_level", job_title="CEO", country="DE", company=company)
    services.lead_rescore_fit(lead_id=lead.pk)
    return lead


def happen(lead: Lead, kind: str, day: int) -> None:
    event = EventFactory(lead=lead, kind=kind, occurred_at=MONDAY + timedelta(days=day))
    services.event_score(event_id=event.pk)


def clicks(lead: Lead) -> list[tuple[int, int]]:
    """(day, points) of the lead's "E-mail link clicked" rows."""
    return [
        ((at - MONDAY).days, points)
        for at, points in ScoreEntry.objects.filter(lead=lead, rule__name="E-mail link clicked")
        .order_by("at")
        .values_list("at", "points")
    ]


def row_versions() -> dict[tuple[str, int], str]:
    """ctid and xmin of every row of the ledger, the score table and the lead table: an UPDATE
    writes a new tuple (another ctid, a newer xmin), even one that changes nothing."""
    versions = {}
    with connection.cursor() as cursor:
        for table, key in (
            ("scoring_scoreentry", "id"),
            ("leads_leadscore", "lead_id"),
            ("leads_lead", "id"),
        ):
            cursor.execute(f"SELECT {key}, ctid::text || '/' || xmin::text FROM {table}")
            versions.update({(table, pk): version for pk, version in cursor})
    return versions


def behaviour_score(lead: Lead) -> float:
    return Lead.objects.values_list("score__behaviour_score", flat=True).get(pk=lead.pk)


def run(kind: str, change) -> Rescoring:
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    rescoring = rescorings.rescoring_start(kind=kind, proposal=proposal, by_user=UserFactory())
    rescorings.rescoring_run(rescoring_id=rescoring.pk)
    rescoring.refresh_from_db()
    assert rescoring.status == Rescoring.Status.DONE, rescoring.error
    return rescoring


def clicks_worth(points: int):
    def change(proposal: dict) -> None:
        rule = next(r for r in proposal["behaviour_rules"] if r["name"] == "E-mail link clicked")
        rule["points"] = points

    return change


def counts(rescoring: Rescoring) -> dict:
    return {key: value for key, value in rescoring.result.items() if key != "samples"}


@pytest.fixture
def clickers() -> dict[str, Lead]:
    """E-mail link clicked: +5 every time, at most 15 a calendar week (Monday to Sunday)."""
    with time_machine.travel(MONDAY, tick=False):
        busy = lead_with_fit()
        for day in (0, 1, 2, 3):  # 5, 5, 5, then the cap: the fourth click has no row
            happen(busy, "email_click", day)
        happen(busy, "email_click", 7)  # the next Monday: a new week, 5
        happen(busy, "webinar_attended", 1)  # 20, another rule
        single = lead_with_fit()
        happen(single, "email_click", 0)
        quiet = lead_with_fit()
        happen(quiet, "demo_request", 0)  # 40, no click
    assert clicks(busy) == [(0, 5), (1, 5), (2, 5), (7, 5)]
    return {"busy": busy, "single": single, "quiet": quiet}


def exact_ledger_and_scores(leads: list[Lead]) -> tuple[dict, dict]:
    """The ledger as rows (id → lead, event, points) and the scores of ``leads`` to 9 places."""
    rows = {
        pk: (lead_id, event_id, points)
        for pk, lead_id, event_id, points in ScoreEntry.objects.values_list(
            "pk", "lead_id", "event_id", "points"
        )
    }
    scores = {
        pk: round(score, 9)
        for pk, score in Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list(
            "pk", "score__behaviour_score"
        )
    }
    return rows, scores


def click_ids() -> set[int]:
    return set(
        ScoreEntry.objects.filter(rule__name="E-mail link clicked").values_list("id", flat=True)
    )


def test_a_capped_rules_raised_points_move_exactly_its_leads_by_the_decayed_difference(clickers):
    busy, single, quiet = clickers["busy"], clickers["single"], clickers["quiet"]
    entry_ids = set(ScoreEntry.objects.values_list("id", flat=True))
    click_rows = click_ids()
    before = row_versions()
    # Quiet's lead and score rows, and the ledger rows of the other rules (busy's webinar,
    # quiet's demo request).
    untouched = {
        key: version
        for key, version in before.items()
        if key in {("leads_leadscore", quiet.pk), ("leads_lead", quiet.pk)}
        or (key[0] == "scoring_scoreentry" and key[1] not in click_rows)
    }
    assert len(untouched) == 4

    with time_machine.travel(DAY_30, tick=False):
        rescoring = run("apply", clicks_worth(6))

    # The same rows (none derived again, none deleted): 6 points, the third of the first week
    # clipped to what is left of the cap (15 - 6 - 6 = 3), the next week's 6.
    assert set(ScoreEntry.objects.values_list("id", flat=True)) == entry_ids
    assert clicks(busy) == [(0, 6), (1, 6), (2, 3), (7, 6)]
    assert clicks(single) == [(0, 6)]
    # By hand on day 30, half-life 30 days: the webinar 20 · 0.5^(29/30) = 10.2337, the clicks
    # 6 · 0.5^(30/30) + 6 · 0.5^(29/30) + 3 · 0.5^(28/30) + 6 · 0.5^(23/30)
    # = 3 + 3.0701 + 1.5709 + 3.5266: 21.4014 in all.
    assert round(behaviour_score(busy), 4) == 21.4014
    assert behaviour_score(single) == 3.0  # 6 · 0.5^(30/30)
    # The lead without clicks keeps its stored score (the nightly decay's to move) and its rows.
    assert behaviour_score(quiet) == 40.0
    after = row_versions()
    assert {key: after[key] for key in untouched} == untouched
    # Every click row was rewritten (their points changed): the comparison above can fail.
    assert all(
        after[("scoring_scoreentry", pk)] != before[("scoring_scoreentry", pk)] for pk in click_rows
    )
    assert rescoring.result["leads"] == 3


def test_a_capped_rules_rows_that_now_give_nothing_are_deleted_and_equal_a_derivation(clickers):
    busy, single = clickers["busy"], clickers["single"]
    with time_machine.travel(DAY_30, tick=False):
        preview = run("preview", clicks_worth(8))
        saved = run("apply", clicks_worth(8))
        repointed = exact_ledger_and_scores([busy, single])
        # The same rule's ledger derived again from the events, every score summed again (the
        # quiet lead's too: it decays to day 30, so it is not compared).
        rule = BehaviourRule.objects.get(name="E-mail link clicked")
        rescorings.rescore_all(rebuild=[rule])
        derived = exact_ledger_and_scores([busy, single])

    # 8, then 15 - 8 = 7, then nothing (the third click's row is gone); the next week 8.
    assert clicks(busy) == [(0, 8), (1, 7), (7, 8)]
    # 20 · 0.5^(29/30) + 8 · 0.5^(30/30) + 7 · 0.5^(29/30) + 8 · 0.5^(23/30)
    # = 10.2337 + 4 + 3.5818 + 4.7022
    assert round(behaviour_score(busy), 4) == 22.5177
    assert repointed == derived
    assert counts(preview) == counts(saved)


def test_a_capped_rule_whose_lower_points_reach_more_events_is_derived_again(clickers):
    busy = clickers["busy"]
    with time_machine.travel(DAY_30, tick=False):
        preview = run("preview", clicks_worth(4))
        saved = run("apply", clicks_worth(4))

    # 4, 4, 4 and now 3 for the fourth click, which had no row: only the events can say it.
    assert clicks(busy) == [(0, 4), (1, 4), (2, 4), (3, 3), (7, 4)]
    # 20 · 0.5^(29/30) + 4 · (0.5^(30/30) + 0.5^(29/30) + 0.5^(28/30)) + 3 · 0.5^(27/30)
    # + 4 · 0.5^(23/30) = 10.2337 + 2 + 2.0467 + 2.0946 + 1.6077 + 2.3511
    assert round(behaviour_score(busy), 4) == 20.3338
    assert counts(preview) == counts(saved)


@time_machine.travel(MONDAY, tick=False)
def test_a_rule_raised_from_zero_points_gives_its_events_rows():
    lead = lead_with_fit()
    happen(lead, "webinar_attended", 0)  # 20

    def webinar_worth(points: int):
        def change(proposal: dict) -> None:
            rule = next(r for r in proposal["behaviour_rules"] if r["name"] == "Webinar attended")
            rule["points"] = points

        return change

    run("apply", webinar_worth(0))
    assert (ScoreEntry.objects.filter(lead=lead).count(), behaviour_score(lead)) == (0, 0.0)
    # 0 points wrote no row: 0 → 25 is no change of points in place, the rows are derived.
    run("apply", webinar_worth(25))
    assert list(ScoreEntry.objects.filter(lead=lead).values_list("points", flat=True)) == [25]
    assert behaviour_score(lead) == 25.0


def _written(change) -> tuple[list[str], list[str]]:
    """Names of the rules a saved change derives again and those it gives new points."""
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    profile = services.active_profile()
    written = proposals.write(
        profile=profile, proposal=proposals.clean(proposal, profile=profile), by_user=None
    )
    return [rule.name for rule in written.rebuild], [rule.name for rule in written.repoint]


def _click_rule(**values):
    def change(proposal: dict) -> None:
        rule = next(r for r in proposal["behaviour_rules"] if r["name"] == "E-mail link clicked")
        rule.update(values)

    return change


@pytest.mark.parametrize(
    ("values", "rebuild", "repoint"),
    [
        ({"points": 6}, [], ["E-mail link clicked"]),  # cap 15: 3 rows a week either way
        ({"points": 15}, [], ["E-mail link clicked"]),  # 1 row a week: fewer
        ({"points": 4}, ["E-mail link clicked"], []),  # 4 rows a week: more
        ({"points": -5}, ["E-mail link clicked"], []),  # a cap limits gains only
        ({"points": 6, "frequency": "once_per_day"}, ["E-mail link clicked"], []),
        ({"points": 6, "pattern": "*pricing*"}, ["E-mail link clicked"], []),
        ({"points": 6, "cap_points": 20}, ["E-mail link clicked"], []),
        ({"points": 6, "cap_points": None, "cap_days": None}, ["E-mail link clicked"], []),
    ],
)
def test_only_a_change_of_points_that_keeps_the_rows_gives_them_new_points(
    values, rebuild, repoint
):
    assert _written(_click_rule(**values)) == (rebuild, repoint)


@pytest.mark.parametrize(
    ("points_before", "points", "cap_points", "keeps"),
    [
        (5, 6, None, True),
        (-10, -20, None, True),
        (-10, -20, 15, True),  # the cap is not applied to points below 0
        (5, -5, None, False),
        (0, 5, None, False),  # 0 points: no rows to repoint
        (5, 0, None, False),
        (5, 6, 15, True),  # ⌈15/5⌉ = ⌈15/6⌉ = 3 firings a period give points
        (5, 8, 15, True),  # 3 → 2: the third row is deleted
        (5, 4, 15, False),  # 3 → 4: a fourth firing gains a row
        (5, 6, 0, True),  # a cap of 0: no rows either way
    ],
)
def test_it_keeps_the_rows_when_no_event_gains_one(points_before, points, cap_points, keeps):
    assert (
        proposals.keeps_rows(points_before=points_before, points=points, cap_points=cap_points)
        is keeps
    )


@time_machine.travel(MONDAY, tick=False)
def test_leads_whose_band_a_repoint_crosses_are_classified_and_promoted_as_the_preview_says():
    """Bands from 25, 50 and 75 points; B3 and B2 are warm, B1 hot; MQL: grade A or B, 50."""
    crosser = lead_with_fit()
    for _webinar in range(2):
        happen(crosser, "webinar_attended", 0)  # 2 · 20 = 40: B3
    climber = lead_with_fit()
    happen(climber, "webinar_attended", 0)  # 20: B4, cold
    high = lead_with_fit()
    happen(high, "demo_request", 0)
    happen(high, "webinar_attended", 0)
    happen(high, "webinar_attended", 0)  # 40 + 2 · 20 = 80: B1
    stored = {
        lead.pk: (lead.rank, lead.temperature, lead.stage)
        for lead in Lead.objects.filter(pk__in=[crosser.pk, climber.pk, high.pk])
    }
    assert stored == {
        crosser.pk: ("B3", "warm", "unqualified"),
        climber.pk: ("B4", "cold", "unqualified"),
        high.pk: ("B1", "hot", "mql"),
    }
    before = row_versions()

    def webinars_worth_30(proposal: dict) -> None:
        rule = next(r for r in proposal["behaviour_rules"] if r["name"] == "Webinar attended")
        rule["points"] = 30

    preview = run("preview", webinars_worth_30)
    saved = run("apply", webinars_worth_30)

    # 60: B2 and an MQL; 30: B3, warm; 100: still B1 (its lead row is not written).
    after = {
        lead.pk: (lead.rank, lead.temperature, lead.stage, lead.score.behaviour_score)
        for lead in Lead.objects.filter(pk__in=[crosser.pk, climber.pk, high.pk])
    }
    assert after == {
        crosser.pk: ("B2", "warm", "mql", 60.0),
        climber.pk: ("B3", "warm", "unqualified", 30.0),
        high.pk: ("B1", "hot", "mql", 100.0),
    }
    assert row_versions()[("leads_lead", high.pk)] == before[("leads_lead", high.pk)]
    expected = {
        "leads": 3,
        "grade_changed": 0,
        "rank_changed": 2,
        "temperature_changed": 1,
        "become_mql": 1,
        "flagged": 0,
        "grade_moves": {},
    }
    assert counts(preview) == expected
    assert counts(saved) == expected


@pytest.mark.django_db(transaction=True)
def test_clicks_scored_while_a_save_repoints_their_rule_end_as_a_derivation_would_give_them():
    """The save locks each range's leads; a click scored meanwhile waits for the range (or goes
    first), so neither the ledger nor the score misses the other's writes. (One waiting click
    per lead: clicks of one lead scored out of the order they happened may differ from a
    derivation under a cap whatever the save does.)"""
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    now = timezone.now()
    leads, waiting = [], []
    for _lead in range(2):
        lead = lead_with_fit()
        for hours in (3, 2):  # two clicks scored already: 5 and 5
            event = EventFactory(
                lead=lead, kind="email_click", occurred_at=now - timedelta(hours=hours)
            )
            services.event_score(event_id=event.pk)
        waiting.append(
            EventFactory(lead=lead, kind="email_click", occurred_at=now - timedelta(minutes=10))
        )
        leads.append(lead)
    profile = services.active_profile()
    proposal = proposals.snapshot(profile)
    clicks_worth(6)(proposal)
    rescoring = Rescoring.objects.create(
        profile=profile,
        kind=Rescoring.Kind.APPLY,
        base_version=profile.version,
        proposal=proposals.clean(proposal, profile=profile),
    )

    def work(index: int):
        if index == 0:
            return rescorings.rescoring_run(rescoring_id=rescoring.pk)
        return services.event_score(event_id=waiting[index - 1].pk)

    results = run_in_threads(3, work)

    assert not [result for result in results if isinstance(result, Exception)]
    rescoring.refresh_from_db()
    assert rescoring.status == Rescoring.Status.DONE, rescoring.error
    rows = dict(ScoreEntry.objects.values_list("event_id", "points"))
    for lead in leads:
        stored = LeadScore.objects.get(lead=lead)
        entries = list(ScoreEntry.objects.filter(lead=lead).values_list("points", "at"))
        # The stored score is its ledger summed, decayed to when it was stored (30 days).
        by_hand = sum(
            points * 0.5 ** ((stored.scored_at - at).total_seconds() / 86400 / 30)
            for points, at in entries
        )
        assert abs(stored.behaviour_score - by_hand) < 1e-6
        # 6, 6, then 15 - 12 = 3 in one week; 6 each when the clicks fall into two weeks.
        assert sorted(points for points, _at in entries) in ([3, 6, 6], [6, 6, 6])
    # The ledger is what deriving the rule again from the clicks gives.
    rescorings.rescore_all(rebuild=[BehaviourRule.objects.get(name="E-mail link clicked")])
    assert dict(ScoreEntry.objects.values_list("event_id", "points")) == rows

"""Behaviour points: the ledger, frequencies and caps, decay, and the MQL rule."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leadcrm.celery import app as celery_app
from leads import event_services
from leads.models import Lead, StageTransition
from scoring import rescoring as rescorings
from scoring import services
from scoring.models import MqlReview, ScoreEntry
from tests.concurrency import run_in_threads
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def grade_b_lead(**fields) -> Lead:
    """c_level 30 + "CEO" 15 + DE 10 = 55 fit points: grade B."""
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        seniority="c_level", job_title="CEO", country="DE", company=company, **fields
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    return lead


def grade_c_lead(**fields) -> Lead:
    """c_level 30 + "CEO" 15 = 45: grade C."""
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        seniority="c_level", job_title="CEO", country="US", company=company, **fields
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    return lead


def happen(lead: Lead, kind: str, at: datetime = MONDAY, url: str = "") -> list[ScoreEntry]:
    event = event_services.event_record(lead=lead, kind=kind, occurred_at=at, url=url)
    return services.event_score(event_id=event.pk)


def state(lead: Lead) -> tuple:
    """Score (to two decimal places, as the lead page and the API show it), rank, temperature
    and stage."""
    lead.refresh_from_db()
    return (round(lead.score.behaviour_score, 2), lead.rank, lead.temperature, lead.stage)


@time_machine.travel(MONDAY, tick=False)
def test_it_writes_a_ledger_row_and_moves_score_rank_and_temperature():
    lead = grade_c_lead()

    entries = happen(lead, "demo_request")

    assert [(e.rule.name, e.points, e.at) for e in entries] == [("Demo request", 40, MONDAY)]
    assert state(lead) == (40.0, "C3", "cold", "unqualified")


def test_it_halves_points_every_half_life():
    lead = grade_c_lead()
    with time_machine.travel(MONDAY, tick=False):
        happen(lead, "demo_request")  # 40
        happen(lead, "pricing_page_view")  # 15

    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        rescorings.leads_refresh_decay()
    thirty_days = state(lead)[0]
    with time_machine.travel(MONDAY + timedelta(days=45), tick=False):
        rescorings.leads_refresh_decay()
    forty_five_days = state(lead)[0]

    assert thirty_days == 27.5  # 55 / 2
    assert forty_five_days == 19.45  # 55 * 0.5^1.5 = 19.445…


@time_machine.travel(MONDAY, tick=False)
def test_it_fires_a_once_per_day_rule_once_a_day_and_stops_at_its_cap():
    lead = grade_c_lead()

    points = [
        sum(e.points for e in happen(lead, "pricing_page_view", at))
        for at in [
            MONDAY,
            MONDAY + timedelta(hours=3),  # same day
            MONDAY + timedelta(days=1),
            MONDAY + timedelta(days=2),  # cap of 30 per 7 days reached
            MONDAY + timedelta(days=8),  # the first visit left the window
        ]
    ]

    assert points == [15, 0, 15, 0, 15]


@time_machine.travel(MONDAY, tick=False)
def test_it_gives_a_once_ever_rule_once_and_caps_small_signals():
    lead = grade_c_lead()

    signups = [sum(e.points for e in happen(lead, "newsletter_signup")) for _ in range(2)]
    opens = [sum(e.points for e in happen(lead, "email_open")) for _ in range(7)]

    assert signups == [5, 0]
    assert opens == [1, 1, 1, 1, 1, 0, 0]
    assert state(lead)[0] == 10.0


@time_machine.travel(MONDAY, tick=False)
def test_it_takes_points_away_for_negative_signals():
    lead = grade_c_lead()
    happen(lead, "demo_request")

    unsubscribed = happen(lead, "unsubscribe")
    careers = happen(lead, "page_view", url="https://www.example.com/careers/backend-developer")

    assert [(e.rule.name, e.points) for e in unsubscribed] == [("Unsubscribed", -20)]
    assert sorted((e.rule.name, e.points) for e in careers) == [
        ("Careers page", -10),
        ("Page view", 1),
    ]
    assert state(lead)[0] == 11.0


@time_machine.travel(MONDAY, tick=False)
def test_it_takes_points_away_once_for_a_tracked_careers_page_view():
    lead = grade_c_lead()
    happen(lead, "demo_request")

    first = happen(lead, "careers_page_view", url="https://www.example.com/karriere/")
    again = happen(lead, "careers_page_view", MONDAY + timedelta(days=2))

    assert [(e.rule.name, e.points) for e in first] == [("Careers page (tracked)", -10)]
    assert again == []
    assert state(lead)[0] == 30.0


@time_machine.travel(MONDAY, tick=False)
def test_it_scores_an_event_only_once():
    lead = grade_c_lead()
    event = event_services.event_record(lead=lead, kind="demo_request")

    services.event_score(event_id=event.pk)
    services.event_score(event_id=event.pk)

    assert ScoreEntry.objects.filter(lead=lead).count() == 1
    assert state(lead)[0] == 40.0


@time_machine.travel(MONDAY, tick=False)
def test_it_makes_a_good_fit_that_engages_an_mql_by_rule():
    lead = grade_b_lead()
    happen(lead, "demo_request")
    assert state(lead) == (40.0, "B3", "warm", "unqualified")

    happen(lead, "webinar_attended")  # 60 >= 50

    assert state(lead) == (60.0, "B2", "warm", "mql")
    promotion = StageTransition.objects.get(lead=lead)
    assert (promotion.from_stage, promotion.to_stage, promotion.by_user, promotion.by_rule) == (
        "unqualified",
        "mql",
        None,
        "scoring:mql_threshold",
    )


@time_machine.travel(MONDAY, tick=False)
def test_it_leaves_a_poor_fit_unqualified_however_engaged():
    lead = grade_c_lead()

    happen(lead, "demo_request")
    happen(lead, "quote_request")

    assert state(lead) == (80.0, "C1", "warm", "unqualified")


@pytest.mark.django_db(transaction=True)
def test_it_promotes_once_when_events_of_one_lead_are_scored_at_the_same_time():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    lead = grade_b_lead()
    events = [event_services.event_record(lead=lead, kind="demo_request") for _ in range(6)]

    run_in_threads(6, lambda i: services.event_score(event_id=events[i].pk))

    assert StageTransition.objects.filter(lead=lead, to_stage="mql").count() == 1
    assert ScoreEntry.objects.filter(lead=lead).count() == 6
    assert state(lead)[0] == 240.0


@time_machine.travel(MONDAY, tick=False)
@pytest.mark.parametrize("history", [0, 60])
def test_it_scores_an_event_with_the_same_queries_however_long_the_history(
    history, django_assert_num_queries
):
    lead = grade_c_lead()
    for day in range(history):
        happen(lead, "email_click", MONDAY - timedelta(days=day + 1))
    event = event_services.event_record(lead=lead, kind="demo_request")

    # event, lead lock, profile, behaviour rules, already scored, insert, the UPDATE of the
    # score, the UPDATE of rank and temperature, the score row's copy of the temperature (the
    # rank moved: C4 to C3), the MQL check, and the savepoint around it: the same 12 with no
    # history and with 60 earlier ledger rows
    with django_assert_num_queries(12):
        services.event_score(event_id=event.pk)


def test_it_flags_an_mql_that_cooled_down_instead_of_moving_it_back():
    lead = grade_b_lead()
    with time_machine.travel(MONDAY, tick=False):
        happen(lead, "demo_request")
        happen(lead, "webinar_attended")
    assert state(lead)[3] == "mql"

    with time_machine.travel(MONDAY + timedelta(days=20), tick=False):
        first = rescorings.leads_refresh_decay()
        again = rescorings.leads_refresh_decay()

    assert state(lead)[0] == 37.8  # 60 * 0.5^(20/30) = 37.798…
    assert state(lead)[3] == "mql"
    assert (first["flagged"], again["flagged"]) == (1, 0)
    review = MqlReview.objects.get(lead=lead)
    assert (review.grade, review.behaviour_score) == ("B", 37.8)


@time_machine.travel(MONDAY, tick=False)
def test_it_scores_a_recorded_event_through_the_worker_queue(django_capture_on_commit_callbacks):
    lead = grade_c_lead()
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event_services.event_record(lead=lead, kind="quote_request")
    finally:
        celery_app.conf.task_always_eager = False

    assert state(lead)[0] == 40.0


@time_machine.travel(MONDAY, tick=False)
def test_it_scores_a_visitors_earlier_events_once_the_visitor_is_known(
    django_capture_on_commit_callbacks,
):
    lead = grade_b_lead()
    for hours in (0, 1):
        event_services.event_record(
            visitor_id="v-42", kind="pricing_page_view", occurred_at=MONDAY - timedelta(hours=hours)
        )
    event_services.event_record(visitor_id="v-42", kind="demo_request", occurred_at=MONDAY)
    event_services.event_record(visitor_id="someone-else", kind="demo_request")
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            linked = event_services.visitor_link(visitor_id="v-42", lead_id=lead.pk)
    finally:
        celery_app.conf.task_always_eager = False

    assert len(linked) == 3
    # The pricing page counts once that day, the earlier visit (an hour old: 15 * 0.5^(1/720) =
    # 14.986), plus the demo request (40): 54.99, so a grade B lead becomes an MQL.
    assert state(lead) == (54.99, "B2", "warm", "mql")

"""GET /api/v1/leads/{id}/score/: a lead's score explained, to anyone who may see the lead."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import event_services
from leads.lifecycle import Stage
from leads.models import Lead
from scoring import services
from scoring.models import BehaviourRule, MqlReview
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def score_url(lead_id: int) -> str:
    return reverse("api-lead-score", args=[lead_id])


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def scored_lead(*, history: list[tuple[str, int]], **fields) -> Lead:
    """Director (+20), "Head of" (+15), software (+20), AT (+10): 65 fit points, grade B; then
    the given (event kind, days before MONDAY) scored by the starter rules."""
    company = CompanyFactory(industry="software", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        seniority="director", job_title="Head of IT", country="AT", company=company, **fields
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    with time_machine.travel(MONDAY, tick=False):
        for kind, days_ago in history:
            event = event_services.event_record(
                lead=lead,
                kind=kind,
                occurred_at=MONDAY - timedelta(days=days_ago),
                url="https://www.example.com/webinar/spring" if kind == "webinar_attended" else "",
            )
            services.event_score(event_id=event.pk)
    lead.refresh_from_db()
    return lead


@time_machine.travel(MONDAY, tick=False)
def test_it_explains_fit_and_every_point_with_its_decayed_value(marketer):
    lead = scored_lead(history=[("demo_request", 45), ("webinar_attended", 10)])
    demo, webinar = lead.events.order_by("occurred_at")

    response = api_as(marketer).get(score_url(lead.pk))

    assert response.status_code == 200
    body = response.json()
    rule_ids = dict(BehaviourRule.objects.values_list("name", "id"))
    assert {key: body[key] for key in ("lead", "fit_points", "grade", "rank", "temperature")} == {
        "lead": lead.pk,
        "fit_points": 65,
        "grade": "B",
        # 20 * 0.5^(10/30) + 40 * 0.5^(45/30) = 15.87 + 14.14 = 30.02: band 3, B3 is warm
        "rank": "B3",
        "temperature": "warm",
    }
    assert body["behaviour_score"] == pytest.approx(30.02, abs=0.01)
    assert body["half_life_days"] == 30
    assert body["mql_review"] is None
    assert body["entries_limit"] == 200
    assert [
        (r["field"], r["operator"], r["value"], r["points"]) for r in body["matched_grade_rules"]
    ] == [
        ("seniority", "in", "director", 20),
        (
            "job_title",
            "contains",
            "CEO, CTO, CIO, CMO, CFO, Head of, Director, Geschäftsführer, Leiter, VP",
            15,
        ),
        ("company__industry", "in", "software, it_services, financial_services, manufacturing", 20),
        ("country", "in", "DE, AT, CH", 10),
    ]
    assert [(r["field"], r["points"]) for r in body["unmatched_grade_rules"]] == [
        ("seniority", 30),
        ("seniority", 10),
        ("job_title", -20),
        ("company__size_band", 20),
        ("company__annual_revenue", 15),
    ]
    assert [{**entry, "id": None} for entry in body["entries"]] == [
        {
            "id": None,
            "rule": {"id": rule_ids["Webinar attended"], "name": "Webinar attended"},
            "event": {
                "id": webinar.pk,
                "kind": "webinar_attended",
                "url": "https://www.example.com/webinar/spring",
                "asset": "",
            },
            "at": "2026-02-20T11:00:00+01:00",
            "points": 20,
            "value_now": 15.87,
            # 30 days after the webinar: 20 days from Monday
            "halves_next_at": "2026-03-22T11:00:00+01:00",
        },
        {
            "id": None,
            "rule": {"id": rule_ids["Demo request"], "name": "Demo request"},
            "event": {"id": demo.pk, "kind": "demo_request", "url": "", "asset": ""},
            "at": "2026-01-16T11:00:00+01:00",
            "points": 40,
            "value_now": 14.14,
            # halved once at 30 days, again at 60: 15 days from Monday
            "halves_next_at": "2026-03-17T11:00:00+01:00",
        },
    ]


@time_machine.travel(MONDAY, tick=False)
def test_it_says_when_an_mql_is_flagged_for_review(sales_manager):
    lead = scored_lead(history=[("demo_request", 3)])
    MqlReview.objects.create(
        lead=lead, flagged_at=MONDAY - timedelta(days=1), behaviour_score=37.8, grade="B"
    )

    body = api_as(sales_manager).get(score_url(lead.pk)).json()

    assert body["mql_review"] == {
        "flagged_at": "2026-03-01T11:00:00+01:00",
        "behaviour_score": 37.8,
        "grade": "B",
    }
    assert [(entry["rule"]["name"], entry["points"]) for entry in body["entries"]] == [
        ("Demo request", 40)
    ]


def test_it_answers_404_for_a_lead_the_user_may_not_see(sales_rep, other_rep):
    own = scored_lead(history=[], owner=sales_rep, stage=Stage.SQL)
    someone_elses = scored_lead(history=[], owner=other_rep, stage=Stage.SQL)
    open_mql = scored_lead(history=[], stage=Stage.MQL)
    client = api_as(sales_rep)

    assert client.get(score_url(own.pk)).status_code == 200
    assert client.get(score_url(open_mql.pk)).status_code == 200
    assert client.get(score_url(someone_elses.pk)).status_code == 404
    assert client.get(score_url(999_999)).status_code == 404


def test_it_refuses_anonymous_clients_and_users_without_a_role(no_role_user):
    lead = scored_lead(history=[])

    assert APIClient().get(score_url(lead.pk)).status_code == 401
    assert api_as(no_role_user).get(score_url(lead.pk)).status_code == 403


def test_it_authenticates_with_a_token_and_with_the_session(client, marketer):
    lead = scored_lead(history=[])
    token = Token.objects.create(user=marketer)
    client.force_login(marketer)

    by_token = APIClient().get(score_url(lead.pk), HTTP_AUTHORIZATION=f"Token {token.key}")
    by_session = client.get(score_url(lead.pk))

    assert (by_token.status_code, by_token.json()["grade"]) == (200, "B")
    assert (by_session.status_code, by_session.json()["grade"]) == (200, "B")


@pytest.mark.parametrize("events", [1, 25])
def test_it_answers_with_a_constant_number_of_queries(marketer, django_assert_num_queries, events):
    lead = scored_lead(history=[("email_click", day) for day in range(0, events * 8, 8)])
    client = api_as(User.objects.get(pk=marketer.pk))  # nothing cached on the user yet

    # the user's roles and permissions (one query), the lead; then the profile, its
    # grade rules, the matches with the review flag, the ledger with rules and events
    with django_assert_num_queries(6):
        response = client.get(score_url(lead.pk))

    assert len(response.json()["entries"]) == events


def test_it_is_in_the_schema(marketer):
    schema = api_as(marketer).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/leads/{id}/score/"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404"}

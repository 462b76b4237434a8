"""The opportunities API: convert, move, won, lost; who may do what."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from leads.models import Lead, LostReason, Opportunity, PipelineStage
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def converted(client, lead, amount="10000.00") -> dict:
    response = client.post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {"name": "Licence", "amount": amount, "expected_margin": "4000.00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_rep_converts_moves_and_wins_through_the_api(sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client = api_as(sales_rep)
    proposal = PipelineStage.objects.get(name="Proposal")

    created = converted(client, lead)
    moved = client.post(
        f"/api/v1/opportunities/{created['id']}/move/",
        {"pipeline_stage": proposal.pk},
        format="json",
    )
    won = client.post(
        f"/api/v1/opportunities/{created['id']}/won/",
        {"amount": "9800.00", "gross_margin": "3900.00"},
        format="json",
    )

    assert (created["status"], created["probability"], created["lead"]) == ("open", 20, lead.pk)
    assert (moved.json()["pipeline_stage"], moved.json()["probability"]) == (proposal.pk, 50)
    assert won.json()["status"] == "won"
    assert (won.json()["amount"], won.json()["gross_margin"]) == ("9800.00", "3900.00")
    assert Lead.objects.get(pk=lead.pk).stage == Stage.CUSTOMER


def test_lost_names_a_reason_or_gets_a_400_naming_the_field(sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client = api_as(sales_rep)
    created = converted(client, lead)

    missing = client.post(f"/api/v1/opportunities/{created['id']}/lost/", {}, format="json")
    lost = client.post(
        f"/api/v1/opportunities/{created['id']}/lost/",
        {"lost_because": LostReason.objects.get(code="price").pk, "note": "Too dear"},
        format="json",
    )

    assert missing.status_code == 400
    assert list(missing.json()) == ["lost_because"]
    assert (lost.json()["status"], lost.json()["lost_reason"]) == ("lost", "Too dear")
    assert Lead.objects.get(pk=lead.pk).stage == Stage.NURTURE


def test_converting_a_lead_that_is_no_sql_is_a_409_and_writes_nothing(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)

    response = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {"name": "Licence", "amount": "2.00", "expected_margin": "1.00"},
        format="json",
    )
    bad_margin = api_as(sales_rep).post(
        f"/api/v1/leads/{LeadFactory(stage=Stage.SQL, owner=sales_rep).pk}/convert/",
        {"name": "Licence", "amount": "1.00", "expected_margin": "2.00"},
        format="json",
    )

    assert response.status_code == 409
    assert bad_margin.status_code == 400
    assert list(bad_margin.json()) == ["expected_margin"]
    assert not Opportunity.objects.exists()


def test_others_deals_stay_out_of_reach(sales_rep, other_rep, marketer):
    theirs = converted(api_as(other_rep), LeadFactory(stage=Stage.SQL, owner=other_rep))
    proposal = PipelineStage.objects.get(name="Proposal").pk

    rep = api_as(sales_rep)
    assert rep.get(f"/api/v1/opportunities/{theirs['id']}/").status_code == 404
    assert rep.get("/api/v1/opportunities/").json()["results"] == []
    assert (
        rep.post(
            f"/api/v1/opportunities/{theirs['id']}/move/",
            {"pipeline_stage": proposal},
            format="json",
        ).status_code
        == 404
    )
    watcher = api_as(marketer)
    assert watcher.get(f"/api/v1/opportunities/{theirs['id']}/").status_code == 200
    assert (
        watcher.post(
            f"/api/v1/opportunities/{theirs['id']}/move/",
            {"pipeline_stage": proposal},
            format="json",
        ).status_code
        == 403
    )


def test_the_list_costs_the_same_queries_for_two_or_eight_deals(sales_manager):
    client = api_as(sales_manager)
    counts = []
    for total in (2, 8):
        while Opportunity.objects.count() < total:
            converted(client, LeadFactory(stage=Stage.SQL, owner=sales_manager))
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/opportunities/?status=open")
        assert len(response.json()["results"]) == total
        counts.append(len(queries))

    assert counts[0] == counts[1]
    stages = client.get("/api/v1/pipeline-stages/").json()
    assert [(s["name"], s["probability"]) for s in stages] == [
        ("Discovery", 20),
        ("Proposal", 50),
        ("Negotiation", 75),
    ]
    assert Decimal(response.json()["results"][0]["amount"]) == Decimal(10000)

"""The sales report on the hand-checked shop (conftest.py): MQL acceptance per campaign with
rejection reasons, rep performance; reps see their own rows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from leads.lifecycle import Stage
from sales.models import Assignment, Rejection, RejectionReason
from tests.reporting.conftest import at
from tests.reporting.test_api_and_pages import MARCH as MARCH_QUERY
from tests.reporting.test_api_and_pages import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def rejected(shop):
    lead = shop.leads["L4"]
    Rejection.objects.create(
        lead=lead,
        reason=RejectionReason.objects.get(code="no-budget"),
        to_stage=Stage.NURTURE,
        campaign=shop.b,
        transition=lead.transitions.get(to_stage=Stage.NURTURE),
        at=at(3, 12),
    )
    return shop


def test_acceptance_and_rejection_reasons_per_campaign(rejected, marketer):
    shop = rejected
    data = api_as(marketer).get(f"/api/v1/reports/sales/?{MARCH_QUERY}").json()
    # A: L1 accepted (MQL → SQL on March 5). B: L4 rejected for no budget; L5 was imported as
    # SQL, which no one decided on.
    assert data["acceptance"] == [
        {
            "campaign": shop.a.pk,
            "campaign_name": "A webinar",
            "accepted": 1,
            "rejected": 0,
            "acceptance": "1.0000",
            "reasons": {},
        },
        {
            "campaign": shop.b.pk,
            "campaign_name": "B cold calls",
            "accepted": 0,
            "rejected": 1,
            "acceptance": "0.0000",
            "reasons": {"no-budget": 1},
        },
    ]
    # The rep won L1's deal on March 10 (10,000, margin 3,000); L6's was in February.
    assert data["reps"] == [
        {
            "owner": shop.rep.pk,
            "owner_name": shop.rep.get_full_name(),
            "accepted": 0,
            "opportunities_opened": 0,
            "won": 1,
            "lost": 0,
            "win_rate": "1.0000",
            "won_amount": "10000.00",
            "won_margin": "3000.00",
            "sla_due": 0,
            "sla_met": 0,
            "sla_compliance": None,
        }
    ]


def test_a_rep_sees_only_their_own_sales_figures(rejected, client):
    shop = rejected
    data = api_as(shop.rep2).get(f"/api/v1/reports/sales/?{MARCH_QUERY}").json()
    # rep2 owns L4 (rejected) and L5; no deals closed.
    assert [(row["campaign_name"], row["rejected"]) for row in data["acceptance"]] == [
        ("B cold calls", 1)
    ]
    assert data["reps"] == []
    client.force_login(shop.rep2)
    page = client.get(reverse("reports:sales") + f"?{MARCH_QUERY}")
    assert page.status_code == 200
    assert shop.rep.get_full_name() not in page.content.decode()


def test_the_sales_page_shows_the_rep_row(rejected, client, sales_manager):
    client.force_login(sales_manager)
    page = client.get(reverse("reports:sales") + f"?{MARCH_QUERY}")
    reps = page.context["reps"]
    assert [(row.won, row.won_margin) for row in reps] == [(1, Decimal("3000.00"))]
    assert "10,000.00" in page.content.decode()


def test_sla_compliance_counts_the_deadlines_of_the_period_per_rep(shop, client, sales_manager):
    lead = shop.leads["L1"]

    def handed_over(due, closed=None, owner=shop.rep):
        Assignment.objects.create(
            lead=lead, owner=owner, at=due, sla_due_at=due, sla_closed_at=closed
        )

    handed_over(at(3, 2, 12), closed=at(3, 2, 9))  # answered three hours early: met
    handed_over(at(3, 9, 12), closed=at(3, 9, 15))  # answered three hours late: missed
    handed_over(at(3, 20, 12))  # never answered, deadline passed: missed
    handed_over(at(4, 2, 12), closed=at(4, 2, 9))  # due 2 April: outside March
    handed_over(at(3, 4, 12), closed=at(3, 4, 8), owner=shop.rep2)  # rep2: met

    data = api_as(sales_manager).get(f"/api/v1/reports/sales/?{MARCH_QUERY}").json()
    sla = {
        row["owner"]: (row["sla_due"], row["sla_met"], row["sla_compliance"])
        for row in data["reps"]
    }

    assert sla == {shop.rep.pk: (3, 1, "0.3333"), shop.rep2.pk: (1, 1, "1.0000")}
    client.force_login(sales_manager)
    page = client.get(reverse("reports:sales") + f"?{MARCH_QUERY}").content.decode()
    assert "33.3" in page
    assert "(1 / 3)" in page

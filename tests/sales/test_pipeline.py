"""Opportunities: converting an SQL, the pipeline board, moving, winning and losing."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.exceptions import TransitionNotAllowed
from leads.lifecycle import Stage
from leads.models import Lead, LostReason, Opportunity, PipelineStage, StageTransition
from sales import pipeline, selectors
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

BOARD_URL = "/sales/pipeline/"


def steps() -> dict[str, PipelineStage]:
    return {stage.name: stage for stage in PipelineStage.objects.all()}


def sql_lead(owner, **fields) -> Lead:
    return LeadFactory(stage=Stage.SQL, owner=owner, **fields)


def convert(lead, user, amount="10000", margin="4000") -> Opportunity:
    return pipeline.opportunity_convert(
        lead_id=lead.pk,
        by_user=user,
        name=f"{lead.email} deal",
        amount=Decimal(amount),
        expected_margin=Decimal(margin),
    )


def test_the_starter_pipeline_and_lost_reasons_are_there():
    assert [(s.name, s.name_de, s.probability) for s in PipelineStage.objects.all()] == [
        ("Discovery", "Bedarfsanalyse", 20),
        ("Proposal", "Angebot", 50),
        ("Negotiation", "Verhandlung", 75),
    ]
    assert list(LostReason.objects.values_list("code", flat=True)) == [
        "price",
        "competitor",
        "no-decision",
        "timing",
        "features",
    ]


def test_an_sql_becomes_an_opportunity_on_the_first_step(sales_rep):
    lead = sql_lead(sales_rep)

    opportunity = convert(lead, sales_rep)

    lead.refresh_from_db()
    assert lead.stage == Stage.OPPORTUNITY
    assert (opportunity.pipeline_stage.name, opportunity.probability, opportunity.owner) == (
        "Discovery",
        20,
        sales_rep,
    )
    assert StageTransition.objects.filter(lead=lead, to_stage="opportunity").count() == 1


def test_only_an_sql_converts_and_nothing_is_left_behind(sales_rep):
    mql = LeadFactory(stage=Stage.MQL, owner=sales_rep)

    with pytest.raises(TransitionNotAllowed):
        convert(mql, sales_rep)
    with pytest.raises(ValidationError) as margin:
        convert(sql_lead(sales_rep), sales_rep, amount="1000", margin="2000")

    assert margin.value.message_dict == {
        "expected_margin": ["The gross margin cannot be more than the amount."]
    }
    assert not Opportunity.objects.exists()


def test_a_move_takes_the_steps_probability_and_a_rep_moves_only_their_own(sales_rep, other_rep):
    opportunity = convert(sql_lead(sales_rep), sales_rep)

    moved = pipeline.opportunity_move(
        opportunity_id=opportunity.pk, stage_id=steps()["Negotiation"].pk, by_user=sales_rep
    )

    assert (moved.pipeline_stage.name, moved.probability) == ("Negotiation", 75)
    with pytest.raises(PermissionDenied):
        pipeline.opportunity_move(
            opportunity_id=opportunity.pk, stage_id=steps()["Proposal"].pk, by_user=other_rep
        )
    opportunity.refresh_from_db()
    assert opportunity.pipeline_stage.name == "Negotiation"


def test_won_makes_a_customer_with_the_real_amount_and_margin(sales_rep):
    opportunity = convert(sql_lead(sales_rep), sales_rep)

    won = pipeline.opportunity_win(
        opportunity_id=opportunity.pk,
        by_user=sales_rep,
        amount=Decimal("9500"),
        gross_margin=Decimal("3800"),
    )

    assert (won.status, won.amount, won.gross_margin, won.probability) == (
        "won",
        Decimal("9500"),
        Decimal("3800"),
        100,
    )
    assert won.closed_at is not None
    assert Lead.objects.get(pk=won.lead_id).stage == Stage.CUSTOMER
    with pytest.raises(ValidationError):  # closed: no second outcome
        pipeline.opportunity_lose(
            opportunity_id=won.pk, by_user=sales_rep, reason_id=LostReason.objects.first().pk
        )


def test_lost_needs_a_reason_and_sends_the_lead_to_nurture_with_it(sales_rep):
    opportunity = convert(sql_lead(sales_rep), sales_rep)

    with pytest.raises(ValidationError) as no_reason:
        pipeline.opportunity_lose(opportunity_id=opportunity.pk, by_user=sales_rep, reason_id=None)
    lost = pipeline.opportunity_lose(
        opportunity_id=opportunity.pk,
        by_user=sales_rep,
        reason_id=LostReason.objects.get(code="competitor").pk,
        note="Went with the incumbent",
    )

    assert no_reason.value.message_dict == {"lost_because": ["Choose why it was lost."]}
    assert (lost.status, lost.lost_because.code, lost.probability) == ("lost", "competitor", 0)
    transition = StageTransition.objects.filter(lead=lost.lead).latest("at", "id")
    assert (transition.to_stage, transition.reason) == (
        "nurture",
        "Chose a competitor: Went with the incumbent",
    )


def test_the_board_adds_up_each_step(sales_rep, sales_manager):
    discovery = [convert(sql_lead(sales_rep), sales_rep, amount) for amount in ("10000", "5000")]
    proposal = convert(sql_lead(sales_rep), sales_rep, "20000")
    pipeline.opportunity_move(
        opportunity_id=proposal.pk, stage_id=steps()["Proposal"].pk, by_user=sales_rep
    )
    closed = convert(sql_lead(sales_rep), sales_rep, "7000")
    pipeline.opportunity_win(
        opportunity_id=closed.pk, by_user=sales_rep, amount=Decimal(7000), gross_margin=Decimal(1)
    )

    columns = selectors.pipeline_board(user=sales_manager)

    # Discovery: 10,000 + 5,000 at 20 %; Proposal: 20,000 at 50 %; the won deal is off the board.
    assert [
        (c.stage.name, c.count, c.total, c.weighted, [o.pk for o in c.cards]) for c in columns
    ] == [
        ("Discovery", 2, Decimal(15000), Decimal(3000), [discovery[0].pk, discovery[1].pk]),
        ("Proposal", 1, Decimal(20000), Decimal(10000), [proposal.pk]),
        ("Negotiation", 0, Decimal(0), Decimal(0), []),
    ]


def test_a_rep_sees_only_their_deals_and_the_board_costs_the_same_queries(
    client, sales_rep, other_rep
):
    mine = convert(sql_lead(sales_rep, company=CompanyFactory()), sales_rep)
    theirs = convert(sql_lead(other_rep), other_rep)
    client.force_login(sales_rep)
    counts = []
    for extra in (0, 4):
        for _ in range(extra):
            convert(sql_lead(sales_rep, company=CompanyFactory()), sales_rep)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BOARD_URL)
        counts.append(len(queries))

    page = response.content.decode()
    assert mine.name in page
    assert theirs.name not in page
    assert counts[0] == counts[1]


def test_the_pages_convert_move_and_close(client, sales_rep):
    lead = sql_lead(sales_rep, first_name="Ada", last_name="Park")
    client.force_login(sales_rep)

    detail = client.get(f"/leads/{lead.pk}/")
    converted = client.post(
        f"/sales/leads/{lead.pk}/convert/",
        {"name": "Park licence", "amount": "12000", "expected_margin": "5000", "currency": "eur"},
    )
    opportunity = Opportunity.objects.get()
    dropped = client.post(
        f"/sales/opportunities/{opportunity.pk}/move/",
        {"stage": steps()["Proposal"].pk},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    bad_win = client.post(
        f"/sales/opportunities/{opportunity.pk}/close/",
        {"outcome": "won", "amount": "100", "gross_margin": "500"},
    )
    won = client.post(
        f"/sales/opportunities/{opportunity.pk}/close/",
        {"outcome": "won", "amount": "11000", "gross_margin": "4500"},
    )

    assert "Convert to opportunity" in detail.content.decode()
    assert converted.status_code == 302
    assert (opportunity.name, opportunity.currency) == ("Park licence", "EUR")
    assert dropped.status_code == 204
    assert bad_win.status_code == 400
    assert "The gross margin cannot be more than the amount." in bad_win.content.decode()
    assert won.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.amount, opportunity.gross_margin) == (
        "won",
        Decimal("11000"),
        Decimal("4500"),
    )
    assert Lead.objects.get(pk=lead.pk).stage == Stage.CUSTOMER


def test_marketers_see_the_board_but_cannot_move(client, marketer, sales_rep):
    opportunity = convert(sql_lead(sales_rep), sales_rep)
    client.force_login(marketer)

    board = client.get(BOARD_URL)
    move = client.post(
        f"/sales/opportunities/{opportunity.pk}/move/", {"stage": steps()["Proposal"].pk}
    )

    assert board.status_code == 200
    assert opportunity.name in board.content.decode()
    assert "Move" not in board.content.decode()
    assert move.status_code == 403


def test_admins_keep_the_steps_and_a_reason_in_use_stays(client, admin_user, sales_rep):
    opportunity = convert(sql_lead(sales_rep), sales_rep)
    price = LostReason.objects.get(code="price")
    pipeline.opportunity_lose(opportunity_id=opportunity.pk, by_user=sales_rep, reason_id=price.pk)
    unused = LostReason.objects.get(code="timing")
    client.force_login(admin_user)

    steps_page = client.get("/admin/leads/pipelinestage/")
    delete_used = client.get(f"/admin/leads/lostreason/{price.pk}/delete/")
    delete_unused = client.get(f"/admin/leads/lostreason/{unused.pk}/delete/")

    assert steps_page.status_code == 200
    assert "Negotiation" in steps_page.content.decode()
    assert delete_used.status_code == 403
    assert delete_unused.status_code == 200


def test_the_generic_stage_change_leaves_opportunity_and_customer_to_the_pipeline(
    client, sales_rep
):
    sql = sql_lead(sales_rep)
    deal = convert(sql_lead(sales_rep), sales_rep)
    client.force_login(sales_rep)
    api = APIClient()
    api.force_authenticate(sales_rep)

    offered = client.get(f"/leads/{sql.pk}/").context["transition_form"]["to_stage"]
    page_move = client.post(
        f"/leads/{sql.pk}/transition/", {"to_stage": "opportunity"}, follow=True
    )
    api_move = api.post(
        f"/api/v1/leads/{sql.pk}/transition/", {"to_stage": "opportunity"}, format="json"
    )
    api_win = api.post(
        f"/api/v1/leads/{deal.lead_id}/transition/", {"to_stage": "customer"}, format="json"
    )

    assert [value for value, _label in offered.field.widget.choices] == ["nurture", "disqualified"]
    assert "Convert the lead with “Convert to opportunity”" in page_move.content.decode()
    assert api_move.status_code == api_win.status_code == 409
    assert api_move.json()["allowed"] == ["nurture", "disqualified"]
    assert "Mark the lead's opportunity as won" in api_win.json()["detail"]
    assert Lead.objects.get(pk=sql.pk).stage == Stage.SQL
    assert Lead.objects.get(pk=deal.lead_id).stage == Stage.OPPORTUNITY

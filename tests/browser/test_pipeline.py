import pytest
from playwright.sync_api import Page, expect

from leads.lifecycle import Stage
from leads.models import Lead, Opportunity
from tests.browser.test_login_and_lead import log_in
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.browser


def test_a_rep_converts_an_sql_drags_it_along_and_wins_it(page: Page, live_server, sales_rep):
    lead = LeadFactory(
        stage=Stage.SQL, owner=sales_rep, first_name="Ada", company=CompanyFactory(name="Park AG")
    )
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server.url, "rep")

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_role("link", name="Convert to opportunity").click()
    page.get_by_label("Opportunity name").fill("Park licence")
    page.get_by_label("Amount", exact=True).fill("12000")
    page.get_by_label("Expected gross margin").fill("5000")
    page.get_by_role("button", name="Convert to opportunity").click()

    discovery = page.get_by_role("region", name="Discovery")
    proposal = page.get_by_role("region", name="Proposal")
    negotiation = page.get_by_role("region", name="Negotiation")
    expect(discovery.get_by_role("link", name="Park licence")).to_be_visible()

    # With the mouse: drag the card onto the next step.
    page.locator(".pipeline-card", has_text="Park licence").drag_to(proposal)
    expect(proposal.get_by_role("link", name="Park licence")).to_be_visible()
    expect(proposal).to_contain_text("12,000 · weighted 6,000 (50 %)")

    # Without it: the card's menu and Move, by keyboard alone.
    menu = page.get_by_label("Move “Park licence” to")
    menu.focus()
    menu.select_option(label="Negotiation")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(negotiation.get_by_role("link", name="Park licence")).to_be_visible()

    negotiation.get_by_role("link", name="Won").click()
    page.get_by_label("Amount won").fill("11000")
    page.get_by_label("Gross margin").fill("4500")
    page.get_by_role("button", name="Mark as won").click()
    expect(page.get_by_text("Won: “Park licence”.")).to_be_visible()
    expect(page.get_by_role("link", name="Park licence")).to_have_count(0)

    opportunity = Opportunity.objects.get()
    assert (opportunity.status, opportunity.amount, opportunity.gross_margin) == (
        "won",
        11000,
        4500,
    )
    assert Lead.objects.get(pk=lead.pk).stage == Stage.CUSTOMER
    assert errors == [], errors

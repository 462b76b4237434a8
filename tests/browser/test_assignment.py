import pytest
from playwright.sync_api import Page, expect

from leads.lifecycle import Stage
from leads.models import Lead
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

# The live server runs in another thread and sees only committed rows.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reassigns_an_mql_and_the_rep_sees_the_counter(
    page: Page, live_server, sales_manager, sales_rep
):
    lead = LeadFactory(owner=None, stage=Stage.MQL, first_name="Grace", last_name="Hopper")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    card = page.locator("#assignment")
    expect(card).to_contain_text("Not assigned yet.")
    card.get_by_label("Reassign to").select_option(label=sales_rep.get_full_name())
    card.get_by_role("button", name="Reassign").click()

    expect(page.locator(".messages")).to_contain_text(
        f"“Grace Hopper” is now assigned to {sales_rep.get_full_name()}."
    )
    expect(page.locator("#assignment")).to_contain_text("Accept or reject by")
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "rep")
    bell = page.locator(".notify-link")
    expect(bell.locator(".notify-count")).to_have_text("1")
    bell.click()
    expect(page.locator("table")).to_contain_text("Grace Hopper")
    page.reload()
    expect(page.locator(".notify-link .notify-count")).to_have_count(0)

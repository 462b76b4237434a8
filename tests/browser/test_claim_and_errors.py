import re

import pytest
from playwright.sync_api import Page, expect

from leads.lifecycle import Stage
from leads.models import Lead
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

# The live server runs in another thread and sees only committed rows.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_claims_an_unassigned_mql_from_the_lead_page(page: Page, live_server, sales_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")

    log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.get_by_text("This marketing-qualified lead has no owner yet.")).to_be_visible()
    page.get_by_role("button", name="Claim", exact=True).click()

    expect(page.locator(".messages")).to_contain_text("You now own “Alan Turing”.")
    expect(page.get_by_role("button", name="Claim", exact=True)).to_have_count(0)
    expect(page.locator(".detail-side")).to_contain_text(sales_rep.get_full_name())
    page.get_by_role("link", name="Field changes").click()
    expect(page).to_have_url(re.compile(r"\?timeline=changes$"))
    expect(page.locator("#timeline .timeline-entry")).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("Owner")
    expect(page.locator("#timeline")).to_contain_text(sales_rep.get_full_name())
    lead.refresh_from_db()
    assert lead.owner == sales_rep


def test_it_tells_the_slower_rep_that_someone_was_faster(
    page: Page, live_server, sales_rep, other_rep
):
    lead = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")

    log_in(page, live_server.url, "rep")
    row = page.get_by_role("row").filter(has_text="Alan Turing")
    expect(row.get_by_role("button", name="Claim Alan Turing")).to_be_visible()
    # Another rep claims it while this one is looking at the list.
    Lead.objects.filter(pk=lead.pk).update(owner=other_rep)
    row.get_by_role("button", name="Claim Alan Turing").click()

    expect(page.locator(".messages")).to_contain_text(
        "Someone was faster: this lead has just been claimed by someone else."
    )
    expect(page).to_have_url(re.compile(r"/leads/$"))
    expect(page.get_by_role("link", name="Alan Turing")).to_have_count(0)


def test_it_moves_the_focus_to_the_error_summary(page: Page, live_server, marketer):
    log_in(page, live_server.url, "marketer")
    page.goto(f"{live_server.url}/leads/new/")
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name="Create lead").click()

    summary = page.get_by_role("alert").filter(has_text="Please correct the following:")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("E-mail: Enter a valid email address.")
    summary.get_by_role("link", name="E-mail: Enter a valid email address.").click()
    expect(page.get_by_label("E-mail")).to_be_focused()


def test_it_focuses_the_summary_of_bad_filters_in_the_address(page: Page, live_server, marketer):
    log_in(page, live_server.url, "marketer")

    page.goto(f"{live_server.url}/leads/?created_after=yesterday")

    summary = page.get_by_role("alert").filter(has_text="These filters are not valid")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Created from: Enter a valid date.")


def test_it_filters_the_timeline_in_place_with_htmx(page: Page, live_server, marketer):
    lead = LeadFactory(owner=None, stage=Stage.MQL, first_name="Ada", last_name="Lovelace")

    log_in(page, live_server.url, "marketer")
    page.goto(f"{live_server.url}/leads/{lead.pk}/edit/")
    page.get_by_label("City").fill("London")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Lead “Ada Lovelace” saved.")
    page.evaluate("window.htmxMarker = 1")

    page.get_by_role("link", name="Field changes").click()

    expect(page.locator("#timeline")).to_contain_text("City")
    expect(page.locator("#timeline")).to_contain_text("London")
    expect(page).to_have_url(re.compile(r"\?timeline=changes$"))
    # Swapped in place: the page was not reloaded, and the tab keeps the focus.
    assert page.evaluate("window.htmxMarker") == 1
    expect(page.get_by_role("link", name="Field changes")).to_be_focused()
    expect(page.get_by_role("link", name="Field changes")).to_have_attribute("aria-current", "true")


def test_it_folds_the_filters_away_on_a_phone(page: Page, live_server, marketer):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "marketer")

    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    expect(search).to_be_visible()

    # Active filters stay folded away too; their chips say what is filtered.
    page.goto(f"{live_server.url}/leads/?q=nobody")
    expect(page.get_by_role("searchbox", name="Search")).to_be_hidden()
    expect(page.locator(".filter-chips")).to_contain_text("Search: nobody")


def test_it_folds_the_main_navigation_into_a_menu_on_a_phone(page: Page, live_server, marketer):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "marketer")

    leads_link = page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Leads"
    )
    menu = page.get_by_role("button", name="Menu")
    expect(leads_link).to_be_hidden()
    # One bar of brand and menu button, not a third of the screen of links.
    assert page.locator(".sidebar").bounding_box()["height"] < 70
    expect(menu).to_have_attribute("aria-expanded", "false")

    menu.click()

    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(leads_link).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    leads_link.click()
    expect(page).to_have_url(re.compile(r"/leads/$"))

    page.set_viewport_size({"width": 1400, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Leads")
    ).to_be_visible()

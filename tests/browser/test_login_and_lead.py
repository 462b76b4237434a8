import re

import pytest
from playwright.sync_api import Page, expect

from leads import services
from leads.lifecycle import Stage
from tests.factories import LeadFactory

# The live server runs in another thread and sees only committed rows.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def log_in(page: Page, base_url: str, username: str, landing: str | None = "/leads/") -> None:
    """Sign in, then open ``landing`` (the lead list) wherever the role's home page is."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/(leads|sales/queue)/$"))
    if landing and not page.url.endswith(landing):
        page.goto(f"{base_url}{landing}")


def test_it_logs_in_finds_a_lead_and_shows_its_timeline(page: Page, live_server, marketer):
    lead = services.lead_create(
        created_by=marketer,
        email="grace@example.com",
        first_name="Grace",
        last_name="Hopper",
        company_name="Navy Labs",
    )
    LeadFactory.create_batch(3)

    log_in(page, live_server.url, "marketer")
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("Hopp")
    results = page.locator("#lead-results")
    expect(results).to_contain_text("1 lead")
    expect(page).to_have_url(re.compile(r"q=Hopp"))
    page.screenshot(path="/tmp/leadcrm-lead-list.png")
    results.get_by_role("link", name="Grace Hopper").click()

    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(page.locator(".detail-side")).to_contain_text("Navy Labs")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Created in")
    expect(timeline).to_contain_text("Unqualified")
    page.screenshot(path="/tmp/leadcrm-lead-detail.png", full_page=True)


def test_it_changes_the_stage_and_shows_it_in_the_timeline(page: Page, live_server, marketer):
    lead = services.lead_create(
        created_by=marketer, email="alan@example.com", first_name="Alan", last_name="Turing"
    )

    log_in(page, live_server.url, "marketer")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_label("New stage").select_option(Stage.MQL)
    page.get_by_label("Reason").fill("Downloaded the pricing sheet")
    page.get_by_role("button", name="Change stage").click()

    expect(page.locator(".messages")).to_contain_text("Moved to stage “Marketing-qualified (MQL)”.")
    expect(page.get_by_test_id("current-stage")).to_have_text("Marketing-qualified (MQL)")
    newest = page.locator(".timeline-entry").first
    expect(newest).to_contain_text("Unqualified")
    expect(newest).to_contain_text("Marketing-qualified (MQL)")
    expect(newest).to_contain_text("Downloaded the pricing sheet")
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_it_switches_the_interface_to_german(page: Page, live_server, marketer):
    log_in(page, live_server.url, "marketer")

    page.get_by_role("button", name="Deutsch").click()

    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    expect(navigation.get_by_role("link", name="Neuer Lead")).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")

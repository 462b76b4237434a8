"""A sales rep starts in their queue and works it with the keyboard."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.lifecycle import Stage
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_works_the_queue_with_the_keyboard(page: Page, live_server, sales_rep):
    best = LeadFactory(
        first_name="Ada", last_name="Best", stage=Stage.SQL, owner=sales_rep, rank="A1"
    )
    second = LeadFactory(
        first_name="Bo", last_name="Second", stage=Stage.MQL, owner=sales_rep, rank="B2"
    )

    log_in(page, live_server.url, "rep", landing=None)
    expect(page).to_have_url(re.compile(r"/sales/queue/$"))
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    rows = page.locator("[data-queue-row]")
    expect(rows).to_have_count(2)

    page.keyboard.press("j")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator("[data-bulk-count]")).to_have_text("1 selected:")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/leads/{best.pk}/$"))

    page.go_back()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(rf"/leads/{second.pk}/#activities$"))
    expect(page.locator("#activities")).to_be_visible()


def test_a_lead_assigned_meanwhile_appears_without_a_reload(
    page: Page, live_server, sales_rep, settings
):
    settings.LEADCRM_QUEUE_REFRESH_SECONDS = 1
    LeadFactory(first_name="Ada", last_name="First", stage=Stage.SQL, owner=sales_rep)
    log_in(page, live_server.url, "rep", landing=None)
    rows = page.locator("[data-queue-row]")
    expect(rows).to_have_count(1)

    LeadFactory(first_name="Newly", last_name="Assigned", stage=Stage.MQL, owner=sales_rep)

    expect(rows).to_have_count(2)
    expect(page.locator("#queue-results")).to_contain_text("Newly Assigned")

"""The lead list in Chromium: the default columns fit without an inner scroll at laptop and
desktop widths, rows are compact, phones get cards; chips remove filters; a saved view brings
back its filters, sort and columns."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from leads.lifecycle import Stage
from tests.browser.test_login_and_lead import log_in
from tests.factories import CompanyFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def many_leads(db):
    # Long values in every default column: the widest a real list shows.
    company = CompanyFactory(name="Schlauchinger Präzisionsmaschinenbau GmbH & Co. KG")
    for number in range(40):
        LeadFactory(
            first_name="Friedrich-Wilhelm",
            last_name=f"Oberhausen-Schönfeld {number:02d}",
            company=company,
            source_channel="purchased_list",
            stage=Stage.MQL,
            rank="A1",
            temperature="hot",
            behaviour_score=123.0,
        )


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1400, 900), (1920, 1080)])
def test_the_default_columns_fit_and_at_least_18_rows_show(
    browser: Browser, live_server, marketer, many_leads, width, height
):
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": height})
    page = context.new_page()
    log_in(page, live_server.url, "marketer")
    page.get_by_role("button", name="Deutsch").click()

    table = page.locator(".lead-table")
    expect(table.locator("th", has_text="Erstellt")).to_be_visible()
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("element => element.scrollWidth <= element.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    created = table.locator("th", has_text="Erstellt").bounding_box()
    assert created["x"] + created["width"] <= width
    if height >= 900:
        rows = table.locator("tbody tr")
        visible = sum(
            1
            for box in (rows.nth(i).bounding_box() for i in range(25))
            if box["y"] + box["height"] <= height
        )
        assert visible >= 18
    page.screenshot(path=f"/tmp/leadcrm-lead-list-{width}.png")
    context.close()


def test_on_a_phone_rows_become_cards_and_filters_fold_away(
    browser: Browser, live_server, marketer, many_leads
):
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, "marketer")

    expect(page.get_by_role("searchbox", name="Search")).to_be_hidden()
    first = page.locator(".lead-table tbody tr").first
    expect(first).to_contain_text("Schlauchinger")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    page.screenshot(path="/tmp/leadcrm-lead-list-phone.png", full_page=False)
    context.close()


def test_chips_remove_filters_and_a_saved_view_restores_filters_sort_and_columns(
    page: Page, live_server, marketer
):
    LeadFactory(last_name="Hotter", temperature="hot", stage=Stage.MQL, behaviour_score=90.0)
    LeadFactory(last_name="Hot", temperature="hot", stage=Stage.MQL, behaviour_score=70.0)
    LeadFactory(last_name="Cool", temperature="cold", stage=Stage.MQL)
    log_in(page, live_server.url, "marketer")
    results = page.locator("#lead-results")

    page.get_by_label("Temperature").select_option("hot")
    expect(results).to_contain_text("2 leads")
    page.get_by_role("link", name="Score").click()
    expect(page).to_have_url(re.compile(r"sort=score"))
    page.get_by_text("Columns", exact=True).click()
    page.get_by_role("checkbox", name="Job title").check()
    page.get_by_role("checkbox", name="Channel").uncheck()
    page.get_by_role("button", name="Show these columns").click()
    expect(page.locator(".lead-table th", has_text="Job title")).to_be_visible()

    page.get_by_text("Save view", exact=True).click()
    page.get_by_label("Name of the view").fill("Hot by score")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("View “Hot by score” saved.")

    chip = results.get_by_role("link", name=re.compile("Temperature: Hot"))
    chip.click()
    expect(results).to_contain_text("3 leads")
    expect(page).not_to_have_url(re.compile("temperature"))

    # The user's own columns go back to the defaults; the view keeps its own.
    page.get_by_text("Columns", exact=True).click()
    page.get_by_role("checkbox", name="Job title").uncheck()
    page.get_by_role("checkbox", name="Channel").check()
    page.get_by_role("button", name="Show these columns").click()
    expect(page.locator(".lead-table th", has_text="Job title")).to_have_count(0)

    page.get_by_role("link", name="All leads").click()
    page.get_by_role("link", name="Hot by score").click()
    expect(results).to_contain_text("2 leads")
    expect(page.get_by_label("Temperature")).to_have_value("hot")
    names = results.locator(".lead-link")
    expect(names).to_have_text([re.compile("Hotter"), re.compile("Hot$")])
    expect(page.locator(".lead-table th", has_text="Job title")).to_be_visible()
    expect(page.locator(".lead-table th", has_text="Channel")).to_have_count(0)
    expect(page.get_by_role("link", name="Hot by score")).to_have_attribute("aria-current", "page")

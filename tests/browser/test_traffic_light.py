"""The traffic light: a coloured dot with its label, in the lead list and on the lead page."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Temperature
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# hot is green ("call now"), warm amber, cold red
DOT_COLOURS = {
    "Hot": "rgb(23, 178, 106)",
    "Warm": "rgb(247, 144, 9)",
    "Cold": "rgb(240, 68, 56)",
}


def test_it_shows_dot_and_label_in_the_list_and_on_the_lead_page(page: Page, live_server, marketer):
    LeadFactory(first_name="Hedy", last_name="Hot", rank="A1", temperature=Temperature.HOT)
    LeadFactory(first_name="Wanda", last_name="Warm", rank="B2", temperature=Temperature.WARM)
    cold = LeadFactory(first_name="Carl", last_name="Cold", rank="D4", temperature=Temperature.COLD)

    log_in(page, live_server.url, "marketer")
    page.get_by_label("Sort by").select_option("rank")
    expect(page).to_have_url(re.compile(r"sort=rank"))
    rows = page.locator("#lead-results tbody tr")
    expect(rows).to_have_count(3)

    for row, (rank, label) in enumerate([("A1", "Hot"), ("B2", "Warm"), ("D4", "Cold")]):
        light = rows.nth(row).get_by_test_id("traffic-light")
        expect(light).to_have_text(label)
        expect(light).to_be_visible()
        dot = light.locator(".traffic-dot")
        expect(dot).to_be_visible()
        expect(dot).to_have_css("background-color", DOT_COLOURS[label])
        expect(rows.nth(row)).to_contain_text(rank)
    page.screenshot(path="/tmp/leadcrm-traffic-light-list.png")

    page.get_by_text("More filters").click()
    page.get_by_role("checkbox", name="D4").check()
    expect(page).to_have_url(re.compile(r"rank=D4"))
    expect(rows).to_have_count(1)
    rows.get_by_role("link", name="Carl Cold").click()

    expect(page).to_have_url(re.compile(rf"/leads/{cold.pk}/$"))
    header = page.locator(".page-header")
    expect(header.get_by_test_id("traffic-light")).to_have_text("Cold")
    expect(header).to_contain_text("Rank D4")
    card = page.locator("#score")
    expect(card.get_by_role("heading", name="Score")).to_be_visible()
    expect(card.get_by_test_id("traffic-light")).to_have_text("Cold")
    expect(card.locator(".traffic-dot")).to_have_css("background-color", DOT_COLOURS["Cold"])
    page.screenshot(path="/tmp/leadcrm-score-card.png", full_page=True)

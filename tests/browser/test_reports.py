"""The dashboard in a real browser: the charts render (canvas drawn, no console errors) and a
filter changes them. The campaign list fits a laptop screen in German."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from leads.models import Campaign, Channel
from reporting.rollup import rollup_refresh
from tests.browser.test_login_and_lead import log_in
from tests.factories import CampaignCostFactory, CampaignFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_opens_the_dashboard_and_a_filter_changes_the_charts(
    page: Page, live_server, marketer
):
    now = timezone.now()
    webinar = CampaignFactory(name="Webinar", channel=Channel.WEBINAR)
    ads = CampaignFactory(name="Ads", channel=Channel.ADS)
    for campaign, count in [(webinar, 3), (ads, 5)]:
        CampaignCostFactory(
            campaign=campaign, incurred_on=timezone.localdate(), amount=Decimal(500)
        )
        for index in range(count):
            LeadFactory(first_campaign=campaign, created_at=now - dt.timedelta(hours=index + 1))
    rollup_refresh()  # what the beat task does every minute
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, "marketer")

    page.goto(f"{live_server.url}/reports/")

    expect(page.locator("[data-freshness]")).to_contain_text("Figures as of")
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(3)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".every((c) => window.Chart && window.Chart.getChart(c))"
    )
    funnel_leads = "window.Chart.getChart(document.querySelector('[data-chart=funnel]'))"
    assert page.evaluate(f"{funnel_leads}.data.datasets[0].data[0]") == 8
    # Both ROI -100 % (no margin yet): tied, in alphabetical order.
    assert page.evaluate(
        "window.Chart.getChart(document.querySelector('[data-chart=bar]')).data.labels"
    ) == ["Paid search / ads", "Webinar"]

    page.get_by_label("Channel", exact=True).select_option(Channel.WEBINAR)
    page.get_by_role("button", name="Show").click()

    page.wait_for_function(f"{funnel_leads} && {funnel_leads}.data.datasets[0].data[0] === 3")
    expect(page.locator("[data-tile=leads] .tile-value")).to_have_text("3")
    assert errors == []


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (1920, 1080)])
def test_the_campaign_list_fits_in_german_with_its_buttons_in_view(
    browser: Browser, live_server, marketer, width, height
):
    # The widest rows a real list shows: long names, the longest German channel labels, a
    # date range, a six-digit budget and a campaign over budget.
    for number, channel in enumerate([Channel.SEO, Channel.ADS, Channel.COLD_CALL, Channel.EBOOK]):
        campaign = CampaignFactory(
            name=f"Fachmesse Präzisionsmaschinenbau Süddeutschland Frühjahrsausgabe {number}",
            channel=channel,
            direction=Campaign.Direction.OUTBOUND,
            starts_on=dt.date(2026, 3, 16),
            ends_on=dt.date(2026, 12, 31),
            budget=Decimal("250000.00"),
            budget_currency="EUR",
        )
        CampaignCostFactory(campaign=campaign, amount=Decimal("312345.67"))
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": height})
    page = context.new_page()
    log_in(page, live_server.url, "marketer", landing="/campaigns/")
    page.get_by_role("button", name="Deutsch").click()

    expect(page.get_by_role("heading", name="Kampagnen", exact=True)).to_be_visible()
    table = page.locator(".campaign-table")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table).to_contain_text("über Budget")
    assert page.locator(".table-wrap").evaluate(
        "element => element.scrollWidth <= element.clientWidth"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for name in ("Kosten", "Bearbeiten"):
        buttons = table.get_by_role("link", name=name, exact=True)
        expect(buttons).to_have_count(4)
        for index in range(4):
            box = buttons.nth(index).bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width
    # A date range stays on one line: its text makes a single line box.
    dates = table.locator("td", has_text="16.03.2026 – 31.12.2026").first
    lines = dates.evaluate(
        "element => { const range = document.createRange(); range.selectNodeContents(element);"
        " return new Set(Array.from(range.getClientRects(), (rect) => rect.top)).size; }"
    )
    assert lines == 1
    page.screenshot(path=f"/tmp/leadcrm-campaign-list-{width}.png")
    context.close()


def test_every_kpi_column_of_the_dashboard_fits_1400_pixels_in_german(
    browser: Browser, live_server, marketer
):
    # Long campaign names, six-digit costs and margins: ROI, the last column, must stay in view.
    now = timezone.now()
    for number, channel in enumerate([Channel.SEO, Channel.ADS, Channel.COLD_CALL, Channel.EBOOK]):
        campaign = CampaignFactory(
            name=f"Fachmesse Präzisionsmaschinenbau Süddeutschland Frühjahrsausgabe {number}",
            channel=channel,
        )
        CampaignCostFactory(
            campaign=campaign, incurred_on=timezone.localdate(), amount=Decimal("312345.67")
        )
        for index in range(3):
            LeadFactory(first_campaign=campaign, created_at=now - dt.timedelta(hours=index + 1))
    rollup_refresh()
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "marketer", landing="/reports/")
    page.get_by_role("button", name="Deutsch").click()

    for table_id in ("channel-table", "campaign-table"):
        table = page.locator(f"#{table_id}")
        expect(table.locator("thead th").last).to_have_text("ROI")
        assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth"), (
            table_id
        )
        box = table.locator("thead th").last.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1400
    # The rates are still there, under their counts, named for screen readers.
    rates = page.locator("#channel-table tbody tr").first.locator(".kpi-rate")
    expect(rates.nth(0)).to_contain_text("Besucher → Lead")
    expect(rates.nth(1)).to_contain_text("Lead → MQL")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()

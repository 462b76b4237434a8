"""The dashboard in a real browser: the charts render (canvas drawn, no console errors) and a
filter changes them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads.models import Channel
from reporting.services import rollup_refresh
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

"""The tracking snippet in a real browser: page views arrive with URL, referrer, UTM and title
under a first-party visitor cookie, and the URL rules decide their kind."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from capture import services
from capture.buffer import get_buffer
from capture.models import TrackingRule
from leads.models import Event, Visitor
from tests.browser.test_login_and_lead import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def empty_buffer():
    buffer = get_buffer()

    def empty() -> None:
        for key in buffer.client.scan_iter(f"{buffer.prefix}*"):
            buffer.client.delete(key)

    empty()
    yield buffer
    empty()


def wait_for_buffered(buffer, count: int) -> None:
    deadline = time.monotonic() + 10
    while buffer.pending() < count:
        assert time.monotonic() < deadline, f"{buffer.pending()} of {count} page views arrived"
        time.sleep(0.05)


def test_the_snippet_reports_page_views_under_a_visitor_cookie(
    page: Page, live_server, settings, empty_buffer
):
    settings.ROOT_URLCONF = "tests.browser.tracking_site"
    services.tracking_rule_create(pattern="/pricing*", kind="pricing_page_view", position=10)
    welcome = f"{live_server.url}/welcome/?utm_source=newsletter&utm_campaign=spring-webinar"

    page.goto(welcome, referer="http://search.example/?q=crm")
    wait_for_buffered(empty_buffer, 1)
    page.click("#pricing")
    expect(page).to_have_title("Pricing")
    wait_for_buffered(empty_buffer, 2)
    assert services.track_flush() == 2

    [cookie] = [c for c in page.context.cookies() if c["name"] == "lc_vid"]
    assert re.fullmatch(r"[0-9a-f]{32}", cookie["value"])
    assert cookie["sameSite"] == "Lax"
    expires = datetime.fromtimestamp(cookie["expires"], tz=UTC)
    assert abs(expires - (datetime.now(tz=UTC) + timedelta(days=396))) < timedelta(minutes=5)
    first, second = Event.objects.order_by("id")
    assert (first.visitor_id, first.kind, first.url) == (cookie["value"], "page_view", welcome)
    assert first.properties == {
        "referrer": "http://search.example/?q=crm",
        "title": "Welcome",
        "utm_source": "newsletter",
        "utm_campaign": "spring-webinar",
    }
    assert (second.visitor_id, second.kind, second.url) == (
        cookie["value"],
        "pricing_page_view",
        f"{live_server.url}/pricing/",
    )
    assert second.properties == {"referrer": welcome, "title": "Pricing"}
    assert Visitor.objects.get().visitor_id == cookie["value"]


def test_a_marketer_finds_the_snippet_and_adds_a_rule(page: Page, live_server, marketer):
    TrackingRule.objects.all().delete()
    log_in(page, live_server.url, "marketer")

    page.get_by_role("link", name="Website tracking").click()
    expect(page.get_by_role("heading", name="Tracking snippet")).to_be_visible()
    expect(page.get_by_role("textbox", name="Tracking snippet")).to_have_value(
        re.compile(r'^<script async src="http://localhost:\d+/t/lc\.js\?v=[0-9a-f]{12}"></script>$')
    )
    page.get_by_label("URL pattern").fill("/webinar*")
    page.get_by_label("Event kind").select_option("webinar_registered")
    page.get_by_label("Position").fill("5")
    page.get_by_role("button", name="Add rule").click()

    expect(page.get_by_role("status")).to_contain_text("Rule “/webinar*” added.")
    expect(page.get_by_role("row").filter(has_text="/webinar*")).to_contain_text(
        "Webinar registration"
    )

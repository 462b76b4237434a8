import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_login_and_lead import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_swagger_ui_from_the_menu_under_the_csp(page: Page, live_server, sales_rep):
    log_in(page, live_server.url, "rep")

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="API docs"
    ).click()

    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LeadCRM API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/leads/{id}/claim/")).to_be_visible()
    page.screenshot(path="/tmp/leadcrm-api-docs.png")

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_login_and_lead import log_in
from tests.webhooks.receiver import running_receiver
from webhooks.models import WebhookEndpoint

# The live server runs in another thread and sees only committed rows; the worker process too.
pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_admin_registers_a_webhook_and_sees_its_delivery_in_the_log(
    page: Page, live_server, admin_user, celery_worker_process, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    with running_receiver() as receiver:
        log_in(page, live_server.url, "admin")
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        page.get_by_role("link", name="Add webhook").first.click()

        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("ERP sync")
        page.get_by_label("Lead created").check()
        page.get_by_role("button", name="Register webhook").click()

        endpoint = WebhookEndpoint.objects.get()
        expect(page).to_have_url(re.compile(rf"/webhooks/{endpoint.pk}/$"))
        expect(page.locator(".messages")).to_contain_text("Webhook registered")
        secret = page.locator("[data-secret]")
        expect(secret).to_be_hidden()
        page.get_by_text("Show signing secret").click()
        expect(secret).to_have_text(endpoint.secret)

        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".messages")).to_contain_text("Test event queued")
        [request] = receiver.wait_for(1)
        assert json.loads(request.body)["type"] == "webhook.test"

        page.get_by_role("link", name="All deliveries of this webhook").click()
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("webhook.test")
        for _ in range(20):  # the worker records the answer just after the request
            if "Succeeded" in row.inner_text():
                break
            page.wait_for_timeout(250)
            page.reload()
        expect(row).to_contain_text("Succeeded")
        expect(row).to_contain_text("200")
        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Apply filters").click()
        expect(page.locator(".results")).to_contain_text("No deliveries match.")

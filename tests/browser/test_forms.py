import re

import pytest
from playwright.sync_api import Page, expect

from capture import form_services
from capture.models import CaptureForm, OutboundEmail
from leads.models import Consent, Event, Lead
from tests.browser.test_login_and_lead import log_in
from tests.factories import CampaignFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def quick_visitors(settings):
    settings.LEADCRM_FORM_MIN_SECONDS = 0


def test_a_marketer_builds_a_form_and_a_visitor_signs_up_and_confirms(
    page: Page, live_server, marketer, settings
):
    settings.LEADCRM_PUBLIC_URL = live_server.url
    CampaignFactory(name="Spring webinar", channel="webinar")
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server.url, "marketer")

    page.get_by_role("link", name="Forms").click()
    page.get_by_role("link", name="New form").click()
    page.get_by_label("Name", exact=True).fill("Webinar sign-up")
    page.get_by_label("Address").fill("webinar")
    page.get_by_label("Campaign").select_option(label="Spring webinar")
    page.get_by_label("Heading (English)").fill("Join our webinar")
    page.get_by_label("Consent text (English)").fill("Send me the webinar invitations.")
    preview = page.locator("#form-preview")
    # The preview follows the typing without a reload.
    expect(preview.get_by_role("heading", name="Join our webinar")).to_be_visible()
    expect(preview.get_by_label("Send me the webinar invitations.")).to_be_visible()
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text("The form “Webinar sign-up” is saved.")).to_be_visible()
    landing = page.locator("a[href$='/f/webinar/']").first.get_attribute("href")

    page.goto(f"{landing}?utm_source=newsletter")
    page.get_by_label("E-mail").fill("anna@example.com")
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Send me the webinar invitations.").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("We have sent you an e-mail")

    lead = Lead.objects.get()
    assert (lead.first_name, lead.first_campaign.name, lead.utm_source) == (
        "Anna",
        "Spring webinar",
        "newsletter",
    )
    assert Event.objects.get().kind == "form_submit"
    assert Consent.objects.get().status == "pending"
    form_services.outbound_email_send(email_id=OutboundEmail.objects.get().pk)

    page.goto(f"{live_server.url}/forms/outbox/")
    page.get_by_text("Please confirm: Webinar sign-up").click()
    link = re.search(r"http://\S+/f/confirm/\S+/", page.locator(".email-body").inner_text())[0]
    page.goto(link)
    expect(page.get_by_role("heading", name="Thank you: confirmed.")).to_be_visible()
    assert Consent.objects.get().status == "granted"
    assert errors == [], errors


def _partner_form(allowed: str) -> CaptureForm:
    return form_services.capture_form_save(
        capture_form=CaptureForm(
            name="Partner form",
            slug="partner",
            title_en="Talk to us",
            thank_you_en="Thanks, we will call you.",
            allowed_origins=allowed,
        ),
        fields=[{"name": "email"}, {"name": "last_name", "required": True}],
    )


def test_the_embedded_form_works_from_an_allowed_website(page: Page, live_server, settings):
    settings.ROOT_URLCONF = "tests.browser.embedding_site"
    port = live_server.url.rsplit(":", 1)[1]
    _partner_form(allowed=f"http://127.0.0.1:{port}")

    page.goto(f"http://127.0.0.1:{port}/partner/partner/?crm={live_server.url}&utm_source=ads")
    expect(page.get_by_role("heading", name="Talk to us")).to_be_visible()
    page.get_by_label("E-mail").fill("bert@example.com")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # last name, in place
    page.get_by_label("Last name").fill("Berg")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_text("Thanks, we will call you.")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.email, lead.last_name, lead.utm_source) == ("bert@example.com", "Berg", "ads")
    assert Event.objects.get().url.startswith(f"http://127.0.0.1:{port}/partner/")


def test_the_embedded_form_stays_away_from_other_websites(page: Page, live_server, settings):
    settings.ROOT_URLCONF = "tests.browser.embedding_site"
    port = live_server.url.rsplit(":", 1)[1]
    _partner_form(allowed="https://www.partner.example")
    refused = []
    page.on(
        "response", lambda response: "/embed/" in response.url and refused.append(response.status)
    )

    page.goto(f"http://127.0.0.1:{port}/partner/partner/?crm={live_server.url}")

    expect(page.get_by_role("heading", name="Partner website")).to_be_visible()
    page.wait_for_timeout(500)
    expect(page.get_by_role("heading", name="Talk to us")).to_have_count(0)
    assert not Lead.objects.exists()

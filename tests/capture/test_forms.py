import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from capture import form_services
from capture.landing import render_token
from capture.models import CaptureForm, FormField, FormSubmission, OutboundEmail
from leads.models import Consent, Event, Lead
from tests.factories import CampaignFactory, EventFactory, LeadFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_minimum_fill_time(settings):
    settings.LEADCRM_FORM_MIN_SECONDS = 0
    settings.LEADCRM_PUBLIC_URL = "https://crm.example.com"


@pytest.fixture
def webinar_form() -> CaptureForm:
    capture_form = CaptureForm(
        name="Webinar sign-up",
        slug="webinar",
        campaign=CampaignFactory(name="Spring webinar", channel="webinar"),
        title_en="Join our webinar",
        title_de="Zum Webinar anmelden",
        consent_en="Send me invitations and marketing e-mails.",
        consent_de="Senden Sie mir Einladungen und Marketing-E-Mails.",
        thank_you_en="See you there!",
        thank_you_de="Bis bald!",
        allowed_origins="https://www.partner.example\nhttp://localhost:9000",
    )
    return form_services.capture_form_save(
        capture_form=capture_form,
        fields=[
            {"name": "email", "label_de": "Ihre E-Mail"},
            {"name": "first_name", "required": True},
            {"name": "company_name"},
        ],
    )


def post(client, capture_form, lang="en", path=None, **data):
    headers = {name: data.pop(name) for name in list(data) if name.startswith("HTTP_")}
    payload = {"token": render_token(capture_form), "website": "", **data}
    return client.post(path or f"/f/{capture_form.slug}/?lang={lang}", payload, **headers)


def test_a_submission_creates_the_lead_with_campaign_event_and_pending_consent(
    client, webinar_form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(
            client,
            webinar_form,
            email=" Anna.Berg@Example.COM ",
            first_name="Anna",
            company_name="Berg GmbH",
            consent="on",
            utm_source="newsletter",
            utm_campaign="spring",
            page="https://www.example.com/webinar?utm_source=newsletter",
        )

    assert response.status_code == 200
    assert "See you there! We have sent you an e-mail" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.company.name) == (
        "Anna.Berg@Example.COM",
        "Anna",
        "Berg GmbH",
    )
    assert (lead.first_campaign.name, lead.last_campaign.name, lead.source_channel) == (
        "Spring webinar",
        "Spring webinar",
        "webinar",
    )
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "spring")
    event = Event.objects.get()
    assert (event.lead, event.kind, event.campaign.name, event.properties) == (
        lead,
        "form_submit",
        "Spring webinar",
        {"form": "webinar"},
    )
    consent = Consent.objects.get()
    assert (consent.lead, consent.purpose, consent.status, consent.confirmed_at) == (
        lead,
        "marketing_email",
        "pending",
        None,
    )
    assert consent.wording == "Send me invitations and marketing e-mails."
    assert (consent.ip_address, consent.source_detail) == ("127.0.0.1", "form:webinar")
    submission = FormSubmission.objects.get()
    assert (submission.lead, submission.created_lead, submission.event) == (lead, True, event)
    email = OutboundEmail.objects.get()
    assert (email.to, email.subject) == ("Anna.Berg@Example.COM", "Please confirm: Webinar sign-up")
    assert "Send me invitations and marketing e-mails." in email.body
    assert "https://crm.example.com/f/confirm/" in email.body
    assert email.sent_at is None  # sent by the worker, after commit


def test_the_confirmation_link_makes_the_consent_count_once(client, webinar_form, mailoutbox):
    post(client, webinar_form, email="anna@example.com", first_name="Anna", consent="on")
    email = OutboundEmail.objects.get()
    assert form_services.outbound_email_send(email_id=email.pk) is True
    assert form_services.outbound_email_send(email_id=email.pk) is False  # idempotent
    assert len(mailoutbox) == 1
    link = re.search(r"https://crm\.example\.com(/f/confirm/\S+/)", mailoutbox[0].body)[1]

    first = client.get(link)
    again = client.get(link)

    assert first.status_code == 200
    assert "Thank you: confirmed." in first.content.decode()
    assert "Already confirmed." in again.content.decode()
    consent = Consent.objects.get()
    assert consent.status == "granted"
    assert consent.confirmed_at is not None


def test_an_altered_or_expired_link_is_refused(client, webinar_form):
    with time_machine.travel(NOON, tick=False):
        post(client, webinar_form, email="anna@example.com", first_name="Anna", consent="on")
        token = form_services.confirmation_token(Consent.objects.get())

    altered = client.get(f"/f/confirm/{token[:-2]}xx/")
    with time_machine.travel(NOON + timedelta(days=7, seconds=1), tick=False):
        expired = client.get(f"/f/confirm/{token}/")
    with time_machine.travel(NOON + timedelta(days=6), tick=False):
        in_time = client.get(f"/f/confirm/{token}/")

    assert altered.status_code == 400
    assert "This link is not valid." in altered.content.decode()
    assert expired.status_code == 400
    assert "This link has expired." in expired.content.decode()
    assert in_time.status_code == 200
    assert Consent.objects.get().status == "granted"


def test_a_known_address_is_updated_without_blanking_and_still_confirms(client, webinar_form):
    known = LeadFactory(
        email="anna@example.com", first_name="Anna", last_name="Berg", job_title="CTO"
    )

    response = post(
        client, webinar_form, email="ANNA@example.com ", first_name="Anne", consent="on"
    )

    assert response.status_code == 200
    assert Lead.objects.count() == 1
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.job_title) == ("Anne", "Berg", "CTO")
    assert known.last_campaign.name == "Spring webinar"
    assert FormSubmission.objects.get().created_lead is False
    assert Consent.objects.get().status == "pending"  # a known address never skips it


def test_without_double_opt_in_the_consent_counts_at_once(client, webinar_form):
    webinar_form.double_opt_in = False
    webinar_form.save()

    response = post(client, webinar_form, email="anna@example.com", first_name="Anna", consent="on")

    assert "See you there!" in response.content.decode()
    assert "e-mail" not in response.content.decode().split("See you there!")[1][:40]
    consent = Consent.objects.get()
    assert (consent.status, consent.confirmed_at is not None) == ("granted", True)
    assert not OutboundEmail.objects.exists()


def test_bad_input_names_the_field_in_the_visitors_language_and_writes_nothing(
    client, webinar_form
):
    german = post(client, webinar_form, lang="de", email="kein-at-zeichen", first_name="")
    english = post(client, webinar_form, email="no-at-sign", first_name="")

    assert german.status_code == english.status_code == 400
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein." in german.content.decode()
    assert "Dieses Feld ist erforderlich." in german.content.decode()
    assert "Ihre E-Mail" in german.content.decode()  # the German label
    assert "Enter a valid email address." in english.content.decode()
    assert not Lead.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"email": "a@example.com", "first_name": "A", "token": "forged"},
        {"email": "a@example.com", "first_name": "A", "token": ""},
        {"email": "a@example.com", "first_name": "x" * 5000},
        {"email": "a@example.com\x00", "first_name": "A"},
        {"email": "a" * 250 + "@example.com", "first_name": "A"},
        {"email": "a@example.com", "first_name": "A", "page": "javascript:alert(1)"},
        {"email": "a@example.com", "first_name": "A", "utm_source": "u" * 101},
        {"email": "a@example.com", "first_name": "A", "visitor_id": "short"},
    ],
)
def test_garbage_is_a_400_and_writes_nothing(client, webinar_form, data):
    response = post(client, webinar_form, **data)

    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_a_token_of_another_form_is_refused(client, webinar_form):
    other = form_services.capture_form_save(
        capture_form=CaptureForm(name="Other", slug="other"), fields=[]
    )

    response = post(
        client, webinar_form, email="a@example.com", first_name="A", token=render_token(other)
    )

    assert response.status_code == 400
    assert "Please reload the page" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_form_sent_faster_than_a_person_can_is_refused(client, webinar_form, settings):
    settings.LEADCRM_FORM_MIN_SECONDS = 3
    with time_machine.travel(NOON, tick=False):
        token = render_token(webinar_form)
    with time_machine.travel(NOON + timedelta(seconds=1), tick=False):
        hasty = post(client, webinar_form, email="a@example.com", first_name="A", token=token)
    with time_machine.travel(NOON + timedelta(seconds=4), tick=False):
        human = post(client, webinar_form, email="a@example.com", first_name="A", token=token)

    assert hasty.status_code == 400
    assert "That was very fast." in hasty.content.decode()
    assert human.status_code == 200
    assert Lead.objects.count() == 1


def test_a_filled_honeypot_looks_accepted_but_stores_nothing(client, webinar_form):
    response = post(client, webinar_form, email="bot@example.com", first_name="Bot", website="x")

    assert response.status_code == 200
    assert "See you there!" in response.content.decode()
    assert not Lead.objects.exists()
    assert not Event.objects.exists()


def test_a_double_submit_is_one_lead_one_event_and_one_submission(client, webinar_form):
    data = {"email": "anna@example.com", "first_name": "Anna", "consent": "on"}

    responses = [post(client, webinar_form, **data) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert (Lead.objects.count(), Event.objects.count(), FormSubmission.objects.count()) == (
        1,
        1,
        1,
    )
    assert (Consent.objects.count(), OutboundEmail.objects.count()) == (1, 1)


def test_the_event_key_holds_a_double_submit_when_the_cache_forgot_it(client, webinar_form):
    data = {"email": "anna@example.com", "first_name": "Anna"}
    with time_machine.travel(NOON, tick=False):
        post(client, webinar_form, **data)
        cache.clear()
        post(client, webinar_form, **data)

    assert (Event.objects.count(), FormSubmission.objects.count()) == (1, 1)


def test_flooding_from_one_address_gets_429(client, webinar_form, settings):
    settings.LEADCRM_FORM_RATE_PER_IP = (3, 60)
    with time_machine.travel(NOON, tick=False):
        statuses = [
            post(client, webinar_form, email=f"p{n}@example.com", first_name="P").status_code
            for n in range(5)
        ]
        refused = post(client, webinar_form, email="p9@example.com", first_name="P")

    assert statuses == [200, 200, 200, 429, 429]
    assert refused["Retry-After"] == "60"
    assert Lead.objects.count() == 3


def test_a_submission_costs_the_same_queries_whatever_the_leads_history(client, webinar_form):
    quiet = LeadFactory(email="quiet@example.com")
    busy = LeadFactory(email="busy@example.com")
    EventFactory.create_batch(60, lead=busy, kind="page_view")
    counts = []
    for lead in (quiet, busy):
        with CaptureQueriesContext(connection) as queries:
            response = post(client, webinar_form, email=lead.email, first_name="Anna", consent="on")
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_landing_page_speaks_german_and_fills_utm_from_its_address(client, webinar_form):
    response = client.get(
        "/f/webinar/?utm_source=newsletter&utm_medium=email", HTTP_ACCEPT_LANGUAGE="de"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Zum Webinar anmelden" in page
    assert "Senden Sie mir Einladungen und Marketing-E-Mails." in page
    assert 'name="utm_source" value="newsletter"' in page
    assert 'name="utm_medium" value="email"' in page
    assert client.get("/f/webinar/?lang=en").content.decode().count("Join our webinar") == 2


def test_an_inactive_or_unknown_form_is_404(client, webinar_form):
    webinar_form.is_active = False
    webinar_form.save()

    assert client.get("/f/webinar/").status_code == 404
    assert client.get("/f/nothing-here/").status_code == 404


class TestEmbedding:
    def test_an_allowed_origin_gets_the_form_with_cors(self, client, webinar_form):
        response = client.get(
            "/f/webinar/embed/?lang=en", HTTP_ORIGIN="https://www.partner.example"
        )

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "https://www.partner.example"
        assert "Join our webinar" in response.content.decode()

    def test_a_preflight_from_an_allowed_origin_is_answered(self, client, webinar_form):
        response = client.options("/f/webinar/embed/", HTTP_ORIGIN="http://localhost:9000")

        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "http://localhost:9000"

    def test_another_origin_is_refused_and_nothing_is_stored(self, client, webinar_form):
        get = client.get("/f/webinar/embed/", HTTP_ORIGIN="https://evil.example")
        sent = post(
            client,
            webinar_form,
            path="/f/webinar/embed/",
            email="a@example.com",
            first_name="A",
            HTTP_ORIGIN="https://evil.example",
        )

        assert (get.status_code, sent.status_code) == (403, 403)
        assert "Access-Control-Allow-Origin" not in get
        assert not Lead.objects.exists()

    def test_an_allowed_origin_submits(self, client, webinar_form):
        response = client.post(
            "/f/webinar/embed/?lang=de",
            {"token": render_token(webinar_form), "email": "a@example.com", "first_name": "A"},
            HTTP_ORIGIN="https://www.partner.example",
        )

        assert response.status_code == 200
        assert "Bis bald!" in response.content.decode()
        assert response["Access-Control-Allow-Origin"] == "https://www.partner.example"
        assert Lead.objects.get().email == "a@example.com"


def test_the_form_fields_are_kept_in_order_with_email_always_required(webinar_form):
    fields = list(webinar_form.fields.values_list("name", "required", "position"))

    assert fields == [("email", True, 0), ("first_name", True, 1), ("company_name", False, 2)]
    saved = form_services.capture_form_save(
        capture_form=webinar_form, fields=[{"name": FormField.Name.CITY}]
    )
    assert list(saved.fields.values_list("name", "required")) == [
        ("email", True),
        ("city", False),
    ]


def test_a_visitor_who_signs_up_brings_their_earlier_page_views(client, webinar_form):
    visitor = "Zq3v9c1XbYtP0mKe2w"
    EventFactory(lead=None, visitor_id=visitor, kind="pricing_page_view")
    EventFactory(lead=None, visitor_id="someone-else-entirely", kind="page_view")

    post(client, webinar_form, email="anna@example.com", first_name="Anna", visitor_id=visitor)

    lead = Lead.objects.get()
    assert sorted(lead.events.values_list("kind", flat=True)) == [
        "form_submit",
        "pricing_page_view",
    ]
    assert Event.objects.filter(lead__isnull=True).count() == 1

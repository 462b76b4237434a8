"""Upsert by e-mail: leads.services.lead_upsert and POST /api/v1/leads/upsert/."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from leads import services
from leads.lifecycle import Stage
from leads.models import Company, Lead, LeadChange, StageTransition
from tests.concurrency import run_in_threads
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

UPSERT_URL = reverse("api-lead-upsert")


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_creates_a_lead_for_an_unknown_address(marketer):
    lead, created = services.lead_upsert(
        email="Ada@Example.com", by_user=marketer, first_name="Ada", company_name="Engines Ltd"
    )

    assert created is True
    assert (lead.email, lead.email_key, lead.first_name) == (
        "Ada@Example.com",
        "ada@example.com",
        "Ada",
    )
    assert lead.company.name == "Engines Ltd"
    assert StageTransition.objects.get(lead=lead).to_stage == "unqualified"


def test_it_updates_the_lead_whose_address_matches_trimmed_and_case_folded(marketer):
    existing = LeadFactory(email="max@example.com", first_name="Max", job_title="")

    lead, created = services.lead_upsert(
        email="  MAX@Example.COM ", by_user=marketer, job_title="CTO"
    )

    assert created is False
    assert lead.pk == existing.pk
    lead.refresh_from_db()
    assert (lead.email, lead.first_name, lead.job_title) == ("max@example.com", "Max", "CTO")
    assert Lead.objects.count() == 1
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.new_value) == ("job_title", "", "CTO")


def test_it_never_blanks_a_filled_field_with_an_empty_value(marketer):
    company = Company.objects.create(name="Kept GmbH")
    existing = LeadFactory(
        email="keep@example.com",
        first_name="Grace",
        phone="+49 30 123",
        city="Berlin",
        company=company,
    )

    lead, created = services.lead_upsert(
        email="keep@example.com",
        by_user=marketer,
        first_name="",
        phone="   ",
        city="Hamburg",
        company=None,
        company_name="",
        owner=None,
    )

    assert created is False
    lead.refresh_from_db()
    assert (lead.first_name, lead.phone, lead.city, lead.company_id) == (
        "Grace",
        "+49 30 123",
        "Hamburg",
        company.pk,
    )
    assert list(LeadChange.objects.filter(lead=existing).values_list("field", flat=True)) == [
        "city"
    ]


def test_it_keeps_the_first_touch_and_moves_the_last_touch(marketer):
    webinar, ebook = CampaignFactory(name="Webinar"), CampaignFactory(name="E-book")
    LeadFactory(
        email="touch@example.com",
        first_campaign=webinar,
        last_campaign=webinar,
        source_channel="webinar",
    )

    lead, _created = services.lead_upsert(
        email="touch@example.com",
        by_user=marketer,
        first_campaign=ebook,
        last_campaign=ebook,
        source_channel="ebook",
    )

    lead.refresh_from_db()
    assert (lead.first_campaign, lead.last_campaign, lead.source_channel) == (
        webinar,
        ebook,
        "webinar",
    )


def test_it_writes_nothing_when_nothing_differs(marketer):
    existing = LeadFactory(email="same@example.com", first_name="Same")

    lead, created = services.lead_upsert(email="same@example.com", first_name="Same")

    assert (lead.pk, created) == (existing.pk, False)
    assert not LeadChange.objects.exists()


def test_it_refuses_to_change_a_lead_the_user_may_not_see(sales_rep, other_rep):
    hidden = LeadFactory(email="theirs@example.com", stage=Stage.SQL, owner=other_rep, city="Köln")

    with pytest.raises(PermissionDenied, match=r"theirs@example\.com"):
        services.lead_upsert(email="theirs@example.com", by_user=sales_rep, city="Bonn")

    hidden.refresh_from_db()
    assert hidden.city == "Köln"


def test_it_names_the_field_of_a_bad_value_and_writes_nothing(marketer):
    with pytest.raises(ValidationError) as error:
        services.lead_upsert(email="bad@example.com", by_user=marketer, seniority="emperor")

    assert set(error.value.message_dict) == {"seniority"}
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_lead_when_the_same_new_address_arrives_at_once():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")

    results = run_in_threads(
        6,
        lambda i: services.lead_upsert(
            email=" Race@Example.com" if i % 2 else "race@example.COM",
            company_name="Race Co",
            city="Berlin",
        ),
    )

    assert [type(result) for result in results] == [tuple] * 6, results
    assert sorted(created for _lead, created in results) == [False] * 5 + [True]
    assert len({lead.pk for lead, _created in results}) == 1
    assert Lead.objects.count() == 1
    assert StageTransition.objects.count() == 1
    assert Company.objects.filter(name="Race Co").count() == 1


# --- API ------------------------------------------------------------------------------------------


def test_the_api_answers_201_created_with_the_lead(marketer):
    response = api_as(marketer).post(
        UPSERT_URL,
        {"email": "new@example.com", "first_name": "Nina", "country": "de"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["result"] == "created"
    assert (body["lead"]["email"], body["lead"]["first_name"], body["lead"]["country"]) == (
        "new@example.com",
        "Nina",
        "DE",
    )
    assert body["lead"]["id"] == Lead.objects.get().pk


def test_the_api_answers_200_updated_and_keeps_filled_fields(sales_manager):
    existing = LeadFactory(email="known@example.com", first_name="Karl", last_name="Otto")

    response = api_as(sales_manager).post(
        UPSERT_URL,
        {"email": "KNOWN@example.com", "first_name": "", "job_title": "Head of IT"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["result"] == "updated"
    assert body["lead"]["id"] == existing.pk
    assert (body["lead"]["first_name"], body["lead"]["job_title"]) == ("Karl", "Head of IT")
    assert body["lead"]["email"] == "known@example.com"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@example.com", "stage": "customer"}, "stage"),
        ({"email": "a@example.com", "country": "Germany"}, "country"),
        ({"email": "a@example.com", "first_campaign": 999999}, "first_campaign"),
        ({"email": "a@example.com", "phone": 12345}, "phone"),
    ],
)
def test_the_api_names_each_bad_field_and_writes_nothing(marketer, payload, field):
    LeadFactory(email="a@example.com", first_name="Unchanged")

    response = api_as(marketer).post(UPSERT_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert list(Lead.objects.values_list("email", "first_name", "country")) == [
        ("a@example.com", "Unchanged", "")
    ]
    assert not LeadChange.objects.exists()


def test_it_takes_back_the_company_it_made_when_the_lead_is_refused(marketer):
    with pytest.raises(ValidationError) as error:
        # A marketer cannot own leads: refused after the company was looked up (and made).
        services.lead_upsert(email="x@example.com", company_name="Ghost AG", owner=marketer)

    assert set(error.value.message_dict) == {"owner"}
    assert not Company.objects.filter(name="Ghost AG").exists()
    assert not Lead.objects.exists()


@pytest.mark.parametrize("role_fixture", ["sales_rep", "no_role_user"])
def test_the_api_lets_only_roles_that_add_and_change_leads_upsert(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    LeadFactory(email="seen@example.com", city="Ulm")

    response = api_as(user).post(
        UPSERT_URL, {"email": "seen@example.com", "city": "Bonn"}, format="json"
    )

    assert response.status_code == 403
    assert "seen@example.com" not in response.content.decode()
    assert Lead.objects.get().city == "Ulm"


def test_the_api_refuses_anonymous_clients():
    assert APIClient().post(UPSERT_URL, {"email": "a@example.com"}).status_code == 401

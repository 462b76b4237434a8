"""POST /api/v1/events/: a batch of up to 1,000 events, all or nothing, per-item errors."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from leads.models import Event, EventKey, Visitor
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
VISITOR = "4f1c2b9e8a7d6c5b4a39281706f5e4d3"


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(user, events) -> object:
    return api_as(user).post(URL, {"events": events}, format="json")


def test_it_records_events_by_lead_id_email_and_visitor_id(marketer):
    anna = LeadFactory(email="Anna.Schmidt@Example.com")
    bert = LeadFactory()
    webinar = CampaignFactory(name="Webinar")

    response = post(
        marketer,
        [
            {
                "email": " anna.schmidt@example.COM",
                "kind": "webinar_attended",
                "asset": "Webinar: KI im Vertrieb",
                "campaign": webinar.pk,
                "occurred_at": "2026-03-12T10:30:00+01:00",
                "properties": {"minutes": 48},
            },
            {"lead": bert.pk, "kind": "download", "url": "https://www.example.com/guide.pdf"},
            {"visitor_id": VISITOR, "kind": "page_view", "url": "https://www.example.com/"},
        ],
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicates"], len(body["ids"])) == (3, 0, 3)
    events = {event.pk: event for event in Event.objects.all()}
    first, second, third = (events[event_id] for event_id in body["ids"])
    assert (first.lead, first.kind, first.asset, first.campaign, first.properties) == (
        anna,
        "webinar_attended",
        "Webinar: KI im Vertrieb",
        webinar,
        {"minutes": 48},
    )
    assert first.occurred_at.isoformat() == "2026-03-12T09:30:00+00:00"
    assert (second.lead, second.url) == (bert, "https://www.example.com/guide.pdf")
    assert (third.lead, third.visitor_id) == (None, VISITOR)
    assert Visitor.objects.filter(visitor_id=VISITOR).exists()


def test_it_answers_per_item_errors_and_stores_nothing(marketer):
    lead = LeadFactory()

    response = post(
        marketer,
        [
            {"lead": lead.pk, "kind": "download"},
            {"lead": lead.pk, "kind": "teleport"},
            {"kind": "download"},
            {"lead": lead.pk, "email": "x@example.com", "kind": "download"},
            {"lead": lead.pk, "kind": "download", "url": "ftp://files.example.com/x"},
            {"lead": 999999, "kind": "download"},
            {"email": "nobody@example.com", "kind": "download"},
            {"lead": lead.pk, "kind": "download", "campaign": 999999},
            {"lead": lead.pk, "kind": "download", "occurred_at": "2999-01-01T00:00:00Z"},
            {"visitor_id": "short", "kind": "download"},
            {"lead": lead.pk, "kind": "download", "properties": [1, 2]},
            {"lead": lead.pk, "kind": "download", "asset": 5},
            {"lead": lead.pk, "kind": "download", "colour": "blue"},
        ],
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {index: sorted(fields) for index, fields in errors.items()} == {
        "1": ["kind"],
        "2": ["lead"],
        "3": ["email", "lead"],
        "4": ["url"],
        "5": ["lead"],
        "6": ["email"],
        "7": ["campaign"],
        "8": ["occurred_at"],
        "9": ["visitor_id"],
        "10": ["properties"],
        "11": ["asset"],
        "12": ["colour"],
    }
    assert errors["5"]["lead"] == ["No lead with id 999999 that you may see."]
    assert Event.objects.count() == 0
    assert Visitor.objects.count() == 0


def test_a_lead_the_user_may_not_see_is_an_unknown_lead(sales_rep, other_rep):
    sales_rep.user_permissions.add(Permission.objects.get(codename="add_event"))
    own = LeadFactory(owner=sales_rep, stage="sql")
    foreign = LeadFactory(owner=other_rep, stage="sql", email="foreign@example.com")

    by_id = post(
        sales_rep, [{"lead": own.pk, "kind": "download"}, {"lead": foreign.pk, "kind": "download"}]
    )
    by_email = post(sales_rep, [{"email": "foreign@example.com", "kind": "download"}])

    assert by_id.json() == {
        "errors": {"1": {"lead": [f"No lead with id {foreign.pk} that you may see."]}}
    }
    assert by_email.json() == {
        "errors": {"0": {"email": ["No lead with this e-mail address that you may see."]}}
    }
    assert Event.objects.count() == 0


def test_it_refuses_more_than_1000_events_and_an_empty_or_malformed_batch(marketer):
    lead = LeadFactory()
    too_many = post(marketer, [{"lead": lead.pk, "kind": "download"}] * 1001)
    empty = post(marketer, [])
    not_a_list = api_as(marketer).post(URL, {"events": {"kind": "download"}}, format="json")
    extra = api_as(marketer).post(
        URL, {"events": [{"lead": lead.pk, "kind": "download"}], "dry_run": True}, format="json"
    )

    assert too_many.status_code == 400
    assert too_many.json() == {
        "events": ["Send at most 1,000 events per request; this batch has 1,001."]
    }
    assert empty.status_code == not_a_list.status_code == 400
    assert list(empty.json()) == list(not_a_list.json()) == ["events"]
    assert extra.json() == {"dry_run": ["Unknown field."]}
    assert Event.objects.count() == 0


def test_it_takes_exactly_1000_events(marketer):
    lead = LeadFactory()

    response = post(marketer, [{"lead": lead.pk, "kind": "download"}] * 1000)

    assert response.status_code == 201
    assert Event.objects.filter(lead=lead).count() == 1000


def test_it_stores_an_event_once_per_idempotency_key(marketer):
    lead = LeadFactory()
    batch = [
        {"lead": lead.pk, "kind": "download", "idempotency_key": "crm-sync-1"},
        {"lead": lead.pk, "kind": "download", "idempotency_key": "crm-sync-2"},
        {"lead": lead.pk, "kind": "download", "idempotency_key": "crm-sync-1"},
    ]

    first = post(marketer, batch)
    retry = post(marketer, batch)

    assert (first.json()["created"], first.json()["duplicates"]) == (2, 1)
    assert first.json()["ids"][2] is None
    assert retry.status_code == 201
    assert retry.json() == {"created": 0, "duplicates": 3, "ids": [None, None, None]}
    assert Event.objects.count() == 2
    assert set(EventKey.objects.values_list("key", flat=True)) == {"crm-sync-1", "crm-sync-2"}


@pytest.mark.parametrize("size", [1, 200])
def test_it_records_a_batch_with_a_constant_number_of_queries(
    marketer, django_assert_num_queries, size
):
    leads = LeadFactory.create_batch(2)
    campaign = CampaignFactory()
    events = [
        item
        for index in range(size)
        for item in (
            {"lead": leads[0].pk, "kind": "download", "campaign": campaign.pk},
            {"email": leads[1].email, "kind": "download", "idempotency_key": f"key-{index}"},
            {"visitor_id": f"{VISITOR[:-4]}{index:04}", "kind": "page_view"},
        )
    ]
    client = api_as(marketer)

    # the user's roles and permissions (1); leads by id, leads by e-mail, campaigns; two
    # savepoints (4 statements); known keys, the visitors' upsert, events, keys
    with django_assert_num_queries(12):
        response = client.post(URL, {"events": events}, format="json")

    assert response.status_code == 201
    assert Event.objects.count() == 3 * size


def test_it_needs_the_add_event_permission(sales_rep, sales_manager, marketer):
    lead = LeadFactory()
    batch = [{"lead": lead.pk, "kind": "download"}]

    assert post(sales_rep, batch).status_code == 403
    assert post(sales_manager, batch).status_code == 403
    assert APIClient().post(URL, {"events": batch}, format="json").status_code == 401
    assert post(marketer, batch).status_code == 201


def test_it_is_throttled_like_other_api_writes(settings, marketer):

    settings.API_THROTTLE_RATES = {"anon": "100/minute", "user": "2/minute"}
    lead = LeadFactory()

    statuses = [
        post(marketer, [{"lead": lead.pk, "kind": "download"}]).status_code for _ in range(3)
    ]

    assert statuses == [201, 201, 429]

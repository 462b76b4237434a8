"""The previous owner is told when someone else takes their lead (a manager's reassignment, or
any owner change by another user): an in-app notification "<lead> was reassigned to <name> by
<user>", no e-mail, never to the person who made the change, nobody on a first assignment."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from leads import list_services
from leads import services as lead_services
from leads.lifecycle import Stage
from sales import assignment
from sales.models import Assignment, Notification, RepProfile
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY_TEN = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY_TEN, tick=False):
        yield


@pytest.fixture
def ada(db):
    """The owner who loses the lead; she wants e-mails about new leads (not about lost ones)."""
    user = UserFactory(
        username="ada", first_name="Ada", last_name="Alt", role="sales_rep", email="ada@x.example"
    )
    RepProfile.objects.create(user=user, notify_by_email=True)
    return user


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Neu", role="sales_rep")


@pytest.fixture
def mia(db):
    return UserFactory(username="mia", first_name="Mia", last_name="Chef", role="sales_manager")


def owned_by(user, **fields):
    lead = LeadFactory(stage=Stage.MQL, owner=user, **fields)
    Assignment.objects.create(lead=lead, owner=user, at=MONDAY_TEN)
    return lead


def told(user):
    return list(
        Notification.objects.filter(recipient=user, kind="reassigned").values_list(
            "lead_id", "assignment__owner", "assignment__by_user"
        )
    )


def by_manager_reassign(lead, manager, to, client):
    assignment.leads_reassign(lead_ids=[lead.pk], to_user=to, by_user=manager)


def by_lead_form(lead, manager, to, client):
    lead_services.lead_update(lead_id=lead.pk, by_user=manager, owner=to)


def by_api_patch(lead, manager, to, client):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.patch(
        reverse("api-lead-detail", args=[lead.pk]), {"owner": to.pk}, format="json"
    )
    assert response.status_code == 200


def by_bulk_assign(lead, manager, to, client):
    list_services.leads_assign(lead_ids=[lead.pk], owner=to, by_user=manager)


PATHS = [by_manager_reassign, by_lead_form, by_api_patch, by_bulk_assign]


@pytest.mark.parametrize("path", PATHS)
def test_the_previous_owner_is_told_in_app_only(
    path, eager, ada, bob, mia, client, django_capture_on_commit_callbacks
):
    lead = owned_by(ada)

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, mia, bob, client)

    assert told(ada) == [(lead.pk, bob.pk, mia.pk)]
    assert list(Notification.objects.filter(recipient=bob).values_list("kind", flat=True)) == [
        "assigned"
    ]
    assert not Notification.objects.filter(recipient=mia).exists()
    assert mail.outbox == []  # Bob did not opt in; Ada's wish covers new leads only


@pytest.mark.parametrize("path", PATHS)
def test_whoever_gives_their_own_lead_away_is_not_told(
    path, eager, bob, mia, client, django_capture_on_commit_callbacks
):
    lead = owned_by(mia)

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, mia, bob, client)

    assert told(mia) == []
    assert Notification.objects.filter(kind="reassigned").count() == 0


@pytest.mark.parametrize("path", PATHS)
def test_nobody_is_told_on_a_first_assignment(
    path, eager, bob, mia, client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, mia, bob, client)

    assert list(Notification.objects.values_list("recipient", "kind")) == [(bob.pk, "assigned")]


def test_recording_twice_tells_once(ada, bob, mia):
    lead = owned_by(ada)
    lead.owner = bob
    lead.save(update_fields=["owner"])
    change = {"lead_ids": [lead.pk], "owner_id": bob.pk, "by_user_id": mia.pk, "at": MONDAY_TEN}

    assignment.owner_change_record(**change)
    assignment.owner_change_record(**change)

    assert told(ada) == [(lead.pk, bob.pk, mia.pk)]


def test_a_reassignment_of_many_leads_tells_everyone_at_a_constant_cost(ada, bob, mia, other_rep):
    def reassign(count):
        leads = [owned_by(ada if n % 2 else other_rep) for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            assignment.leads_reassign(
                lead_ids=[lead.pk for lead in leads], to_user=bob, by_user=mia
            )
        return len(queries)

    reassign(1)  # what a first call caches (the roles)
    assert reassign(2) == reassign(8)
    assert len(told(ada)) == 5
    assert len(told(other_rep)) == 6


def test_the_bell_list_shows_who_took_it_in_both_languages(ada, bob, mia, client):
    lead = owned_by(ada, first_name="Max", last_name="Muster")
    assignment.leads_reassign(lead_ids=[lead.pk], to_user=bob, by_user=mia)
    client.force_login(ada)

    english = client.get(reverse("sales:notifications"), headers={"accept-language": "en"})
    client.cookies["django_language"] = "de"
    german = client.get(reverse("sales:notifications"))
    api = client.get(reverse("api-notifications"), headers={"accept-language": "en"}).json()

    assert "Max Muster was reassigned to Bob Neu by Mia Chef." in english.content.decode()
    assert "Lead reassigned" in english.content.decode()
    # Ada no longer sees the lead: its name, not a link that answers 404.
    assert reverse("leads:detail", args=[lead.pk]) not in english.content.decode()
    text = german.content.decode()
    assert "Max Muster wurde von Mia Chef an Bob Neu übergeben." in text
    assert "Lead neu zugewiesen" in text
    (row,) = api["results"]
    assert (row["kind"], row["assignment"]["owner"]["id"], row["assignment"]["by_user"]["id"]) == (
        "reassigned",
        bob.pk,
        mia.pk,
    )


def test_the_notification_list_costs_the_same_with_who_made_each(ada, bob, mia, client):
    for _ in range(4):
        assignment.leads_reassign(lead_ids=[owned_by(ada).pk], to_user=bob, by_user=mia)
    client.force_login(ada)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("api-notifications")).status_code == 200
    for _ in range(4):
        assignment.leads_reassign(lead_ids=[owned_by(ada).pk], to_user=bob, by_user=mia)
    with CaptureQueriesContext(connection) as more:
        assert client.get(reverse("api-notifications")).status_code == 200

    assert len(queries) == len(more)

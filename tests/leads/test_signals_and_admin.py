"""Domain signals fire after commit only, and the admin writes through the services."""

import pytest
from django.db import transaction
from django.urls import reverse

from leads import event_services, services, signals
from leads.lifecycle import Stage
from leads.models import Event, Lead, LeadChange, StageTransition
from tests.factories import EventFactory, LeadFactory, StageTransitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    heard: list[tuple[str, dict]] = []

    def listener(name):
        def receive(sender, **kwargs):
            kwargs.pop("signal", None)
            heard.append((name, kwargs))

        return receive

    receivers = {
        signals.lead_created: listener("lead_created"),
        signals.lead_stage_changed: listener("lead_stage_changed"),
        signals.event_recorded: listener("event_recorded"),
        signals.lead_fields_changed: listener("lead_fields_changed"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield heard
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def test_it_announces_a_new_lead_and_a_stage_change_once_committed(
    received, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_create(created_by=marketer, email="new@example.com")
        assert received == []  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        transition = services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer)

    assert received == [
        ("lead_created", {"lead_id": lead.pk}),
        (
            "lead_stage_changed",
            {
                "lead_id": lead.pk,
                "from_stage": "unqualified",
                "to_stage": "mql",
                "transition_id": transition.pk,
            },
        ),
    ]


def test_it_announces_which_fields_changed_once_committed(
    received, marketer, django_capture_on_commit_callbacks
):
    lead = LeadFactory(job_title="Engineer", city="Köln")

    with django_capture_on_commit_callbacks(execute=True):
        services.lead_update(
            lead_id=lead.pk,
            by_user=marketer,
            job_title="CTO",
            city="Bonn",
            last_name=lead.last_name,
        )

    assert received == [
        ("lead_fields_changed", {"lead_id": lead.pk, "fields": ["city", "job_title"]})
    ]


def test_it_announces_an_event_once_committed(received, django_capture_on_commit_callbacks):
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        event = event_services.event_record(lead=lead, kind="pricing_page_view")

    assert received == [
        ("event_recorded", {"event_id": event.pk, "lead_id": lead.pk, "kind": "pricing_page_view"})
    ]


def test_it_announces_nothing_when_the_transaction_rolls_back(
    received, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                lead = services.lead_create(created_by=marketer, email="gone@example.com")
                services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer)
                raise RuntimeError("the caller fails after the writes")
        except RuntimeError:
            pass

    assert callbacks == []
    assert received == []
    assert not Lead.objects.filter(email_key="gone@example.com").exists()


def _admin_form(**overrides):
    data = {
        "email": "grace@example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "phone": "",
        "job_title": "",
        "seniority": "",
        "country": "",
        "city": "",
        "language": "",
        "age_band": "",
        "company": "",
        "owner": "",
        "source_channel": "direct",
        "first_campaign": "",
        "last_campaign": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0",
        "transitions-MAX_NUM_FORMS": "0",
    }
    return {**data, **overrides}


def test_it_adds_a_lead_in_the_admin_through_the_service(
    client, admin_user, received, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:leads_lead_add"), _admin_form())

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.email_key, lead.stage) == ("grace@example.com", "unqualified")
    first = StageTransition.objects.get(lead=lead)
    assert (first.from_stage, first.to_stage, first.by_user) == ("", "unqualified", admin_user)
    assert received == [("lead_created", {"lead_id": lead.pk})]


def test_it_records_admin_edits_in_the_history(client, admin_user):
    lead = LeadFactory(email="grace@example.com", first_name="Grace", last_name="Hopper")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        _admin_form(job_title="Rear admiral", company=lead.company_id),
    )

    assert response.status_code == 302
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.new_value, change.by_user) == (
        "job_title",
        "",
        "Rear admiral",
        admin_user,
    )


def test_it_shows_an_admin_duplicate_address_beside_the_field(client, admin_user):
    LeadFactory(email="grace@example.com")
    client.force_login(admin_user)

    response = client.post(reverse("admin:leads_lead_add"), _admin_form(email="GRACE@example.com"))

    assert response.status_code == 200
    assert "A lead with this e-mail address already exists." in response.content.decode()
    assert Lead.objects.count() == 1


def test_it_keeps_scores_and_stage_out_of_the_admin_form(client, admin_user):
    lead = LeadFactory(grade="B", rank="B2")
    client.force_login(admin_user)

    client.post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        _admin_form(
            email=lead.email, grade="A", rank="A1", behaviour_score="1e9", stage="customer"
        ),
    )

    lead.refresh_from_db()
    assert (lead.grade, lead.rank, lead.score.behaviour_score, lead.stage) == (
        "B",
        "B2",
        0.0,
        "unqualified",
    )


def test_it_deletes_a_lead_in_the_admin_with_an_audit_entry(client, admin_user):
    from leads.models import AuditEntry

    lead = LeadFactory()
    client.force_login(admin_user)

    response = client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Lead.objects.exists()
    assert AuditEntry.objects.get().object_id == lead.pk


@pytest.mark.parametrize(
    ("model", "factory"),
    [("stagetransition", StageTransitionFactory), ("event", EventFactory)],
)
def test_it_keeps_history_and_events_read_only_in_the_admin(client, admin_user, model, factory):
    row = factory()
    client.force_login(admin_user)

    add = client.get(reverse(f"admin:leads_{model}_add"))
    change = client.post(reverse(f"admin:leads_{model}_change", args=[row.pk]), {})
    delete = client.post(reverse(f"admin:leads_{model}_delete", args=[row.pk]), {"post": "yes"})
    view = client.get(reverse(f"admin:leads_{model}_change", args=[row.pk]))

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert view.status_code == 200
    assert type(row).objects.filter(pk=row.pk).exists()
    assert Event.objects.count() + StageTransition.objects.count() >= 1

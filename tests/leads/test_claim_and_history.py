"""Claiming MQLs, who may own a lead, the change history and races on one lead."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leads import services
from leads.exceptions import LeadAlreadyClaimed, LeadChangedMeanwhile
from leads.lifecycle import Stage
from leads.models import AuditEntry, Lead, LeadChange, StageTransition
from tests.concurrency import run_in_threads
from tests.factories import CampaignFactory, CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_gives_an_unassigned_mql_to_the_rep_who_claims_it(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    claimed = services.lead_claim(lead_id=lead.pk, user=sales_rep)

    assert claimed.owner == sales_rep
    lead.refresh_from_db()
    assert lead.owner == sales_rep
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.new_value, change.by_user) == (
        "owner",
        "",
        sales_rep.get_full_name(),
        sales_rep,
    )


@pytest.mark.parametrize(
    ("stage", "owned"),
    [("mql", True), ("unqualified", False), ("sql", True), ("nurture", False)],
)
def test_it_refuses_to_claim_anything_but_an_unassigned_mql(stage, owned, sales_rep, other_rep):
    lead = LeadFactory(stage=stage, owner=other_rep if owned else None)

    with pytest.raises(LeadAlreadyClaimed):
        services.lead_claim(lead_id=lead.pk, user=sales_rep)

    lead.refresh_from_db()
    assert lead.owner == (other_rep if owned else None)
    assert not LeadChange.objects.filter(lead=lead).exists()


def test_it_lets_only_sales_claim_leads(marketer):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    with pytest.raises(ValidationError) as invalid:
        services.lead_claim(lead_id=lead.pk, user=marketer)

    assert list(invalid.value.message_dict) == ["owner"]
    assert Lead.objects.get(pk=lead.pk).owner is None


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_contested_mql_to_exactly_one_of_many_racing_reps():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    reps = [UserFactory(username=f"racer{i}", role="sales_rep") for i in range(6)]
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    results = run_in_threads(6, lambda i: services.lead_claim(lead_id=lead.pk, user=reps[i]))

    winners = [r for r in results if isinstance(r, Lead)]
    losers = [r for r in results if isinstance(r, LeadAlreadyClaimed)]
    assert (len(winners), len(losers)) == (1, 5)
    assert Lead.objects.get(pk=lead.pk).owner == winners[0].owner
    assert LeadChange.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_reps_taking_an_mql_by_editing_the_owner_win():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    reps = [UserFactory(username=f"editor{i}", role="sales_rep") for i in range(2)]
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    results = run_in_threads(
        2, lambda i: services.lead_update(lead_id=lead.pk, by_user=reps[i], owner=reps[i])
    )

    assert sorted(type(r).__name__ for r in results) == ["Lead", "LeadChangedMeanwhile"]
    winner = next(r for r in results if isinstance(r, Lead))
    assert Lead.objects.get(pk=lead.pk).owner == winner.owner
    assert LeadChange.objects.filter(lead=lead, field="owner").count() == 1


def test_it_refuses_an_edit_when_the_lead_was_reassigned_meanwhile(
    sales_rep, other_rep, sales_manager
):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep, city="Köln")
    # The rep opened the lead; the manager reassigns it before the rep saves.
    services.lead_update(lead_id=lead.pk, by_user=sales_manager, owner=other_rep)

    with pytest.raises(LeadChangedMeanwhile):
        services.lead_update(lead_id=lead.pk, by_user=sales_rep, city="Bonn")

    assert Lead.objects.get(pk=lead.pk).city == "Köln"


def test_it_records_who_changed_which_field_from_what_to_what(marketer, sales_rep):
    campaign = CampaignFactory(name="Spring webinar")
    lead = LeadFactory(
        job_title="Engineer", seniority="staff", company=CompanyFactory(name="Old GmbH")
    )

    services.lead_update(
        lead_id=lead.pk,
        by_user=marketer,
        job_title="Head of Engineering",
        seniority="director",
        owner=sales_rep,
        first_campaign=campaign,
        company_name="New AG",
        city=lead.city,  # unchanged: no entry
    )

    changes = {
        c.field: (c.old_value, c.new_value, c.by_user) for c in LeadChange.objects.filter(lead=lead)
    }
    assert changes == {
        "job_title": ("Engineer", "Head of Engineering", marketer),
        "seniority": ("staff", "director", marketer),
        "owner": ("", sales_rep.get_full_name(), marketer),
        "first_campaign": ("", "Spring webinar", marketer),
        "company": ("Old GmbH", "New AG", marketer),
    }


def test_it_writes_no_history_when_nothing_changed(marketer):
    lead = LeadFactory(city="Köln")

    services.lead_update(lead_id=lead.pk, by_user=marketer, city="Köln")

    assert not LeadChange.objects.exists()


def test_it_offers_reps_only_themselves_as_owner(sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)

    with pytest.raises(ValidationError) as invalid:
        services.lead_update(lead_id=lead.pk, by_user=sales_rep, owner=other_rep)

    assert list(invalid.value.message_dict) == ["owner"]
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep


def test_it_assigns_leads_only_to_sales_people(sales_manager, marketer):
    lead = LeadFactory()

    with pytest.raises(ValidationError) as invalid:
        services.lead_update(lead_id=lead.pk, by_user=sales_manager, owner=marketer)

    assert list(invalid.value.message_dict) == ["owner"]


def test_it_refuses_to_take_the_owner_from_an_sql(sales_manager):
    lead = LeadFactory(stage=Stage.SQL)

    with pytest.raises(ValidationError) as invalid:
        services.lead_update(lead_id=lead.pk, by_user=sales_manager, owner=None)

    assert list(invalid.value.message_dict) == ["owner"]


def test_it_deletes_a_lead_and_keeps_only_a_hash_of_its_address(sales_manager):
    lead = LeadFactory(email=" Grace.Hopper@Example.COM")
    services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=sales_manager)

    services.lead_delete(lead_id=lead.pk, by_user=sales_manager)

    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert not StageTransition.objects.filter(lead_id=lead.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id, entry.by_user) == (
        "lead_deleted",
        lead.pk,
        sales_manager,
    )
    # sha256("grace.hopper@example.com"), the normalised address: no personal data kept.
    assert entry.email_sha256 == "a460d7fa831915bb17b55b9151a5278e916f2de6480dc2171845c4b305620428"


def test_it_refuses_a_stage_change_when_the_lead_was_reassigned_or_deleted_meanwhile(
    sales_rep, other_rep, sales_manager
):
    reassigned = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    deleted = LeadFactory(stage=Stage.MQL)
    services.lead_update(lead_id=reassigned.pk, by_user=sales_manager, owner=other_rep)
    deleted_id = deleted.pk
    services.lead_delete(lead_id=deleted_id, by_user=sales_manager)

    with pytest.raises(LeadChangedMeanwhile):
        services.lead_transition(
            lead_id=reassigned.pk, to_stage=Stage.OPPORTUNITY, by_user=sales_rep
        )
    with pytest.raises(LeadChangedMeanwhile):
        services.lead_transition(lead_id=deleted_id, to_stage=Stage.SQL, by_user=sales_manager)

    assert Lead.objects.get(pk=reassigned.pk).stage == Stage.SQL

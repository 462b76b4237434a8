import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from leads import services
from leads.exceptions import TransitionNotAllowed
from leads.lifecycle import Stage
from leads.models import Lead, LeadChange, StageTransition
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory

STAGES = ["unqualified", "mql", "sql", "opportunity", "customer", "nurture", "disqualified"]

# The lifecycle as the product promises it, written out: from each stage, where a lead may go
# next, in the order the stage select offers them.
EXPECTED_NEXT = {
    "unqualified": ["mql", "nurture", "disqualified"],
    "mql": ["sql", "nurture", "disqualified"],
    "sql": ["opportunity", "nurture", "disqualified"],
    "opportunity": ["customer", "nurture", "disqualified"],
    "customer": [],
    "nurture": ["mql", "disqualified"],
    "disqualified": ["unqualified"],
}
ALLOWED_PAIRS = [(a, b) for a in STAGES for b in EXPECTED_NEXT[a]]
FORBIDDEN_PAIRS = [(a, b) for a in STAGES for b in STAGES if b not in EXPECTED_NEXT[a]]


def test_it_knows_exactly_these_stages():
    assert Stage.values == STAGES
    assert len(ALLOWED_PAIRS) == 15
    assert len(FORBIDDEN_PAIRS) == 34


@pytest.mark.django_db
@pytest.mark.parametrize(("from_stage", "to_stage"), ALLOWED_PAIRS)
def test_it_allows_the_move_and_records_who_when_and_why(from_stage, to_stage, sales_manager):
    lead = LeadFactory(stage=from_stage)

    transition = services.lead_transition(
        lead_id=lead.pk, to_stage=to_stage, by_user=sales_manager, reason="Checked on the phone"
    )

    lead.refresh_from_db()
    assert lead.stage == to_stage
    assert lead.stage_changed_at == transition.at
    stored = StageTransition.objects.get(lead=lead)
    assert (stored.from_stage, stored.to_stage) == (from_stage, to_stage)
    assert stored.by_user == sales_manager
    assert stored.reason == "Checked on the phone"


@pytest.mark.django_db
@pytest.mark.parametrize(("from_stage", "to_stage"), FORBIDDEN_PAIRS)
def test_it_refuses_a_forbidden_move_and_writes_nothing(from_stage, to_stage, sales_manager):
    lead = LeadFactory(stage=from_stage)
    stage_changed_at = lead.stage_changed_at

    with pytest.raises(TransitionNotAllowed) as refused:
        services.lead_transition(
            lead_id=lead.pk, to_stage=to_stage, by_user=sales_manager, reason="try"
        )

    assert refused.value.allowed == EXPECTED_NEXT[from_stage]
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_changed_at) == (from_stage, stage_changed_at)
    assert not StageTransition.objects.filter(lead=lead).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("to_stage", ["nurture", "disqualified"])
def test_it_needs_a_reason_to_leave_the_funnel(to_stage, sales_manager):
    lead = LeadFactory(stage=Stage.MQL)

    with pytest.raises(ValidationError) as invalid:
        services.lead_transition(lead_id=lead.pk, to_stage=to_stage, by_user=sales_manager)

    assert "reason" in invalid.value.message_dict
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


@pytest.mark.django_db
def test_it_names_the_field_for_an_unknown_stage(sales_manager):
    lead = LeadFactory()

    with pytest.raises(ValidationError) as invalid:
        services.lead_transition(lead_id=lead.pk, to_stage="won", by_user=sales_manager)

    assert list(invalid.value.message_dict) == ["to_stage"]


@pytest.mark.django_db
def test_it_records_a_rule_as_the_author_of_automatic_moves():
    lead = LeadFactory(stage=Stage.UNQUALIFIED)

    transition = services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_rule="mql_rule")

    assert transition.by_user is None
    assert transition.by_rule == "mql_rule"


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_many_concurrent_identical_moves_through(sales_manager):
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    lead = LeadFactory(stage=Stage.UNQUALIFIED)

    results = run_in_threads(
        8,
        lambda _: services.lead_transition(
            lead_id=lead.pk, to_stage=Stage.MQL, by_user=sales_manager
        ),
    )

    successes = [r for r in results if isinstance(r, StageTransition)]
    refusals = [r for r in results if isinstance(r, TransitionNotAllowed)]
    assert (len(successes), len(refusals)) == (1, 7)
    assert all(r.from_stage == Stage.MQL for r in refusals)
    assert StageTransition.objects.filter(lead=lead).count() == 1
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_history_a_chain_under_concurrent_different_moves(sales_manager):
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    lead = LeadFactory(stage=Stage.MQL)
    targets = [Stage.SQL, Stage.NURTURE, Stage.DISQUALIFIED, Stage.OPPORTUNITY] * 2

    run_in_threads(
        len(targets),
        lambda i: services.lead_transition(
            lead_id=lead.pk, to_stage=targets[i], by_user=sales_manager, reason="race"
        ),
    )

    history = list(StageTransition.objects.filter(lead=lead).order_by("at", "id"))
    assert history, "at least one move must win"
    assert history[0].from_stage == Stage.MQL
    for before, after in itertools.pairwise(history):
        assert after.from_stage == before.to_stage
        assert after.to_stage in EXPECTED_NEXT[after.from_stage]
    assert Lead.objects.get(pk=lead.pk).stage == history[-1].to_stage


@pytest.mark.django_db
def test_it_lets_a_rep_who_qualifies_an_unassigned_mql_take_it(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    services.lead_transition(lead_id=lead.pk, to_stage=Stage.SQL, by_user=sales_rep)

    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == (Stage.SQL, sales_rep)
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.by_user) == ("owner", "", sales_rep)
    assert change.new_value == sales_rep.get_full_name()


@pytest.mark.django_db
@pytest.mark.parametrize("mover", ["marketer", "rule"])
def test_it_refuses_a_sales_stage_without_an_owner_to_anyone_who_cannot_own_it(mover, marketer):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    by = {"by_user": marketer} if mover == "marketer" else {"by_rule": "mql_threshold"}

    with pytest.raises(ValidationError) as invalid:
        services.lead_transition(lead_id=lead.pk, to_stage=Stage.SQL, **by)

    assert list(invalid.value.message_dict) == ["owner"]
    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == (Stage.MQL, None)
    assert not StageTransition.objects.filter(lead=lead).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["sql", "opportunity"])
def test_it_keeps_an_owner_on_sales_stages_in_the_database(stage):
    lead = LeadFactory(stage=stage)

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(owner=None)

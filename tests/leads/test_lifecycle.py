import itertools
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from leads import services
from leads.exceptions import TransitionNotAllowed
from leads.lifecycle import ALLOWED_TRANSITIONS, REASON_REQUIRED, Stage, allowed_next_stages
from leads.models import Lead, StageTransition
from tests.factories import LeadFactory

ALL_PAIRS = list(itertools.product(Stage.values, Stage.values))
ALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED_TRANSITIONS[a]]


def test_it_covers_every_stage_in_the_table():
    assert set(ALLOWED_TRANSITIONS) == set(Stage.values)
    assert len(ALLOWED_PAIRS) + len(FORBIDDEN_PAIRS) == len(Stage.values) ** 2


def test_it_leads_every_stage_but_customer_somewhere_and_customer_nowhere():
    assert allowed_next_stages(Stage.CUSTOMER) == []
    for stage in set(Stage.values) - {Stage.CUSTOMER}:
        assert allowed_next_stages(stage)


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

    assert refused.value.allowed == allowed_next_stages(from_stage)
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_changed_at) == (from_stage, stage_changed_at)
    assert not StageTransition.objects.filter(lead=lead).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("to_stage", sorted(REASON_REQUIRED))
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


def _run_in_threads(count: int, target) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_many_concurrent_identical_moves_through(sales_manager):
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    lead = LeadFactory(stage=Stage.UNQUALIFIED)

    results = _run_in_threads(
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

    _run_in_threads(
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
        assert after.to_stage in ALLOWED_TRANSITIONS[after.from_stage]
    assert Lead.objects.get(pk=lead.pk).stage == history[-1].to_stage

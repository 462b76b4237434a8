"""bench.generate writes through COPY on the test transaction's own connection, so the ``db``
fixture (one transaction, rolled back) sees and then discards everything it wrote."""

import itertools
from io import StringIO

import pytest

from bench.generate import generate
from leads.lifecycle import Stage, is_allowed
from leads.models import Campaign, Company, Event, Lead, StageTransition

pytestmark = pytest.mark.django_db


def run(seed: int = 3) -> dict[str, int]:
    return generate(leads=300, events_per_lead=2, seed=seed, truncate=True, reps=4, out=StringIO())


def snapshot() -> list[tuple]:
    return list(
        Lead.objects.order_by("id").values_list(
            "email", "stage", "owner__username", "rank", "temperature", "created_at"
        )
    )


def test_it_writes_the_requested_rows():
    counts = run()

    assert Lead.objects.count() == counts["leads"] == 300
    assert Event.objects.count() == counts["events"] == 600
    assert StageTransition.objects.count() == counts["stage transitions"]
    assert Company.objects.count() == counts["companies"] == 30
    assert Campaign.objects.count() == counts["campaigns"]
    assert Event.objects.filter(lead__isnull=True).count() == 0


def test_it_writes_consistent_stage_histories():
    run()

    stages = dict(Lead.objects.values_list("id", "stage"))
    by_lead: dict[int, list[StageTransition]] = {}
    for transition in StageTransition.objects.order_by("lead_id", "at", "id"):
        by_lead.setdefault(transition.lead_id, []).append(transition)

    assert set(by_lead) == set(stages)
    for lead_id, rows in by_lead.items():
        assert rows[0].from_stage == ""
        assert rows[-1].to_stage == stages[lead_id]
        for previous, row in itertools.pairwise(rows):
            assert row.from_stage == previous.to_stage
            assert is_allowed(row.from_stage, row.to_stage)
            assert row.at > previous.at


def test_it_gives_worked_leads_a_bench_rep():
    run()

    worked = Lead.objects.filter(stage__in=[Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER])

    assert worked.exists()
    assert not worked.filter(owner__isnull=True).exists()
    assert set(worked.values_list("owner__groups__name", flat=True)) == {"sales_rep"}


def test_it_continues_the_id_sequences():
    run()

    lead = Lead.objects.create(email="after-bench@example.com")

    assert lead.pk == 301


def test_it_is_reproducible_by_seed():
    run(seed=5)
    first = snapshot()

    run(seed=5)

    assert snapshot() == first


def test_it_differs_with_another_seed():
    run(seed=5)
    first = snapshot()

    run(seed=6)

    assert snapshot() != first

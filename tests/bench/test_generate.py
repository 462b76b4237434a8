"""bench.generate writes through COPY on the test transaction's own connection, so the ``db``
fixture (one transaction, rolled back) sees and then discards everything it wrote."""

import itertools
import re
from datetime import UTC, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bench.generate import generate
from leads.lifecycle import Stage, is_allowed
from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Lead,
    Opportunity,
    StageTransition,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2026, 6, 17, 10, 30, tzinfo=UTC), tick=False):
        yield


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
    assert Campaign.objects.count() == counts["campaigns"] == 12
    assert CampaignCost.objects.count() == counts["campaign costs"]
    assert Opportunity.objects.count() == counts["opportunities"]
    assert Activity.objects.count() == counts["activities"]
    assert Consent.objects.count() == counts["consents"]
    assert Event.objects.filter(lead__isnull=True).count() == 0


def test_it_writes_the_demo_shapes():
    run()

    leads = list(Lead.objects.select_related("first_campaign"))
    german = [lead for lead in leads if lead.country == "DE"]

    assert {lead.country for lead in leads} <= {"DE", "AT", "CH", "GB", "IE", "US", "CA"}
    assert {lead.language for lead in leads} == {"de", "en"}
    assert all(lead.email_key == lead.email.lower() for lead in leads)
    assert all(re.fullmatch(r"(\+49 \d{2,4} \d{5,8})?", lead.phone) for lead in german)
    for lead in leads:
        if lead.first_campaign is not None:
            created_on = lead.created_at.astimezone(ZoneInfo("Europe/Berlin")).date()
            assert lead.first_campaign.starts_on <= created_on
            assert created_on <= (lead.first_campaign.ends_on or created_on)
    assert not Lead.objects.filter(stage__in=["sql", "opportunity"], owner__isnull=True).exists()
    assert not Consent.objects.filter(
        lead__source_channel="purchased_list",
        purpose="marketing_email",
        status="granted",
        confirmed_at__isnull=True,
    ).exists()


def test_it_appends_without_clashing_with_earlier_rows():
    run()

    counts = generate(leads=100, events_per_lead=1, seed=3, reps=4, out=StringIO())

    assert counts["campaigns"] == 0
    assert Lead.objects.count() == 400
    assert Company.objects.count() == 40
    assert Campaign.objects.count() == 12


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

import itertools
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from leadcrm.roles import Role
from leads.lifecycle import Stage, is_allowed
from leads.management.commands.seed_demo import DEMO_PASSWORD, HOT_RANKS, WARM_RANKS
from leads.models import (
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

MODELS = [Campaign, CampaignCost, Company, Lead, StageTransition, Event, Opportunity, Consent]


def seed(*extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--leads", "200", "--seed", "7", *extra, stdout=out)
    return out.getvalue()


def histories() -> dict[int, list[StageTransition]]:
    by_lead: dict[int, list[StageTransition]] = {}
    for transition in StageTransition.objects.order_by("lead_id", "at", "id"):
        by_lead.setdefault(transition.lead_id, []).append(transition)
    return by_lead


def test_it_creates_leads_in_every_stage():
    output = seed()

    assert Lead.objects.count() == 200
    assert set(Lead.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert "leads" in output


def test_it_ends_every_history_in_the_leads_stage():
    seed()

    stages = dict(Lead.objects.values_list("id", "stage"))
    by_lead = histories()

    assert set(by_lead) == set(stages)
    assert {lead_id: rows[-1].to_stage for lead_id, rows in by_lead.items()} == stages


def test_it_follows_the_lifecycle_in_every_history():
    seed()

    for rows in histories().values():
        assert rows[0].from_stage == ""
        assert rows[0].to_stage == Stage.UNQUALIFIED
        for previous, row in itertools.pairwise(rows):
            assert row.from_stage == previous.to_stage
            assert is_allowed(row.from_stage, row.to_stage)
            assert row.at > previous.at
            assert row.by_user_id is not None or row.by_rule == "mql_threshold"


def test_it_gives_every_customer_a_won_opportunity():
    seed()

    customers = set(Lead.objects.filter(stage=Stage.CUSTOMER).values_list("id", flat=True))
    won = set(
        Opportunity.objects.filter(status=Opportunity.Status.WON, amount__gt=0).values_list(
            "lead_id", flat=True
        )
    )

    assert customers
    assert won == customers
    assert set(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN).values_list("lead_id", flat=True)
    ) == set(Lead.objects.filter(stage=Stage.OPPORTUNITY).values_list("id", flat=True))


def test_it_keeps_rank_and_temperature_consistent():
    seed()

    for grade, rank, temperature in Lead.objects.values_list("grade", "rank", "temperature"):
        assert rank[0] == grade
        assert rank[1] in "1234"
        expected = "hot" if rank in HOT_RANKS else "warm" if rank in WARM_RANKS else "cold"
        assert temperature == expected


def test_it_assigns_sales_reps_to_leads_sales_worked_on():
    seed()

    worked = Lead.objects.filter(stage__in=[Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER])

    assert not worked.filter(owner__isnull=True).exists()
    assert set(worked.values_list("owner__username", flat=True)) <= {"rep", "rep2"}


def test_it_changes_nothing_when_run_twice():
    seed()
    before = Counter({model.__name__: model.objects.count() for model in MODELS})

    output = seed()

    assert "Demo data already present" in output
    assert Counter({model.__name__: model.objects.count() for model in MODELS}) == before


def test_it_is_reproducible_by_seed():
    seed()
    first = list(Lead.objects.order_by("id").values_list("email", "stage", "rank"))
    Lead.objects.all().delete()
    Campaign.objects.all().delete()
    Company.objects.all().delete()

    seed()

    assert list(Lead.objects.order_by("id").values_list("email", "stage", "rank")) == first


@pytest.mark.parametrize(
    ("username", "role", "is_staff"),
    [
        ("marketer", Role.MARKETER, False),
        ("rep", Role.SALES_REP, False),
        ("rep2", Role.SALES_REP, False),
        ("manager", Role.SALES_MANAGER, False),
        ("admin", Role.ADMIN, True),
    ],
)
def test_it_creates_demo_users_who_can_log_in(username, role, is_staff):
    seed()
    seed()

    # As the login form does: django-axes needs the request to count failures per address.
    user = authenticate(RequestFactory().post("/login/"), username=username, password=DEMO_PASSWORD)

    assert user is not None
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.is_staff is is_staff
    assert user.is_superuser is is_staff

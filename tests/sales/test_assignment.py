"""Automatic assignment of new MQLs: rules, round-robin fairness, capacity, away reps, reps who
join, leave and come back, the timeline entry, the wiring to MQL entry, and races."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Industry, Lead, LeadChange
from sales import assignment, tasks, teams
from sales.models import Assignment, AssignmentRule, RepProfile, Team
from tests.concurrency import run_in_threads
from tests.factories import CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 10:00 in Berlin (CET): the SLA of 24 business hours (9-17, Mon-Fri) is
# due on Thursday 5 March at 10:00 CET = 09:00 UTC.
MONDAY_TEN = datetime(2026, 3, 2, 9, tzinfo=UTC)
THURSDAY_TEN = datetime(2026, 3, 5, 9, tzinfo=UTC)


def make_team(name="Inside sales", reps=3, **profile):
    team = Team.objects.create(name=name)
    members = []
    for index in range(reps):
        user = UserFactory(username=f"{name[:5].lower()}-rep{index}", role="sales_rep")
        RepProfile.objects.create(user=user, team=team, **profile)
        members.append(user)
    return team, members


def mqls(count, **fields):
    return [LeadFactory(stage=Stage.MQL, owner=None, **fields) for _ in range(count)]


def owners_of(leads):
    return Counter(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list(
            "owner__username", flat=True
        )
    )


@pytest.fixture
def team():
    team, members = make_team()
    AssignmentRule.objects.create(name="Everyone", team=team, position=10)
    return team, members


def test_it_deals_leads_one_by_one_evenly(team):
    _team, reps = team
    leads = mqls(30)

    for lead in leads:
        assignment.lead_assign(lead_id=lead.pk)

    assert owners_of(leads) == {rep.username: 10 for rep in reps}


def test_it_deals_a_batch_evenly(team):
    _team, _reps = team
    leads = mqls(31)

    made = assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert len(made) == 31
    assert sorted(owners_of(leads).values()) == [10, 10, 11]


def test_it_keeps_dealing_evenly_after_a_batch(team):
    _team, _reps = team
    first, second = mqls(4), mqls(5)

    assignment.leads_assign(lead_ids=[lead.pk for lead in first])  # 2, 1, 1
    assignment.leads_assign(lead_ids=[lead.pk for lead in second])

    assert sorted(owners_of([*first, *second]).values()) == [3, 3, 3]


def test_it_never_goes_beyond_a_reps_capacity(team):
    _team, (full, other, third) = team
    RepProfile.objects.filter(user=full).update(capacity=3)
    LeadFactory(stage=Stage.SQL, owner=full)  # open work counts: room for 2 more
    leads = mqls(12)

    assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert owners_of(leads) == {full.username: 2, other.username: 5, third.username: 5}


def test_it_leaves_leads_unassigned_when_everyone_is_full(team):
    _team, reps = team
    RepProfile.objects.update(capacity=1)
    leads = mqls(5)

    made = assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert len(made) == 3
    assert owners_of(leads) == {rep.username: 1 for rep in reps} | {None: 2}


def test_it_skips_an_away_rep_and_lets_them_back_at_the_teams_level(team):
    _team, (first, away, third) = team
    RepProfile.objects.filter(user=away).update(away=True)
    before = mqls(6)
    assignment.leads_assign(lead_ids=[lead.pk for lead in before])
    assert owners_of(before) == {first.username: 3, third.username: 3}

    RepProfile.objects.filter(user=away).update(away=False)
    after = mqls(6)
    assignment.leads_assign(lead_ids=[lead.pk for lead in after])

    # Back at the level of the others: one share of the new leads, not a catch-up flood.
    assert owners_of(after) == {first.username: 2, away.username: 2, third.username: 2}


def test_it_takes_a_rep_back_when_the_absence_ends_on_its_own(team):
    _team, (first, away, third) = team
    with time_machine.travel(MONDAY_TEN, tick=False):
        RepProfile.objects.filter(user=away).update(
            away=True, away_until=MONDAY_TEN + timedelta(hours=1)
        )
        assignment.leads_assign(lead_ids=[lead.pk for lead in mqls(2)])
    with time_machine.travel(MONDAY_TEN + timedelta(hours=2), tick=False):
        later = mqls(3)
        assignment.leads_assign(lead_ids=[lead.pk for lead in later])

    assert owners_of(later) == {first.username: 1, away.username: 1, third.username: 1}


def test_a_newcomer_is_neither_skipped_nor_flooded(team, sales_manager):
    the_team, reps = team
    assignment.leads_assign(lead_ids=[lead.pk for lead in mqls(9)])  # 3 each
    newcomer = UserFactory(username="newcomer", role="sales_rep")

    teams.rep_profile_update(user=newcomer, by_user=sales_manager, team=the_team)
    leads = mqls(8)
    assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert owners_of(leads) == {rep.username: 2 for rep in [*reps, newcomer]}


def test_a_rep_who_left_gets_nothing_more(team, sales_manager):
    _team, (leaving, second, third) = team
    teams.rep_profile_update(user=leaving, by_user=sales_manager, team=None)
    leads = mqls(6)

    assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert owners_of(leads) == {second.username: 3, third.username: 3}


def test_a_deactivated_user_gets_nothing(team):
    _team, (gone, second, third) = team
    gone.is_active = False
    gone.save()
    leads = mqls(4)

    assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert owners_of(leads) == {second.username: 2, third.username: 2}


def test_it_routes_by_territory_then_industry_then_the_rest(sales_manager):
    dach, (dach_rep,) = make_team("DACH", reps=1)
    software, (software_rep,) = make_team("Software", reps=1)
    rest, (rest_rep,) = make_team("Rest", reps=1)
    AssignmentRule.objects.create(name="DACH", team=dach, position=10, countries=["DE", "AT", "CH"])
    AssignmentRule.objects.create(
        name="Software", team=software, position=20, industries=[Industry.SOFTWARE]
    )
    AssignmentRule.objects.create(name="Everyone else", team=rest, position=30)
    AssignmentRule.objects.create(name="Off", team=dach, position=1, active=False)
    austrian = LeadFactory(stage=Stage.MQL, country="AT", company=CompanyFactory(industry="retail"))
    french_software = LeadFactory(
        stage=Stage.MQL, country="FR", company=CompanyFactory(industry=Industry.SOFTWARE)
    )
    french_retail = LeadFactory(
        stage=Stage.MQL, country="FR", company=CompanyFactory(industry="retail")
    )
    no_company = LeadFactory(stage=Stage.MQL, country="", company=None)

    assignment.leads_assign(
        lead_ids=[austrian.pk, french_software.pk, french_retail.pk, no_company.pk]
    )

    assert dict(Lead.objects.filter(stage=Stage.MQL).values_list("pk", "owner__username")) == {
        austrian.pk: dach_rep.username,
        french_software.pk: software_rep.username,
        french_retail.pk: rest_rep.username,
        no_company.pk: rest_rep.username,
    }


def test_a_full_team_passes_the_lead_to_the_next_matching_rule():
    dach, (dach_rep,) = make_team("DACH", reps=1, capacity=1)
    rest, (rest_rep,) = make_team("Rest", reps=1)
    AssignmentRule.objects.create(name="DACH", team=dach, position=10, countries=["DE"])
    AssignmentRule.objects.create(name="Everyone", team=rest, position=20)
    first, second = mqls(2, country="DE")

    assignment.leads_assign(lead_ids=[first.pk, second.pk])

    assert Lead.objects.get(pk=first.pk).owner == dach_rep
    assert Lead.objects.get(pk=second.pk).owner == rest_rep


def test_a_lead_no_rule_matches_stays_for_reps_to_claim():
    dach, _reps = make_team("DACH", reps=1)
    AssignmentRule.objects.create(name="DACH", team=dach, countries=["DE"])
    (lead,) = mqls(1, country="US")

    assert assignment.leads_assign(lead_ids=[lead.pk]) == []
    assert Lead.objects.get(pk=lead.pk).owner is None


@time_machine.travel(MONDAY_TEN, tick=False)
def test_it_records_who_and_which_rule_assigned_and_starts_the_sla(team):
    _team, (rep, *_others) = team
    (lead,) = mqls(1)

    made = assignment.lead_assign(lead_id=lead.pk)

    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.new_value, change.by_user, change.by_rule) == (
        "owner",
        "",
        rep.get_full_name(),
        None,
        "Assignment: Everyone",
    )
    assert (made.owner, made.rule_name, made.at, made.sla_due_at) == (
        rep,
        "Everyone",
        MONDAY_TEN,
        THURSDAY_TEN,
    )


def test_it_leaves_owned_and_non_mql_leads_alone_and_assigns_nothing_twice(team, sales_rep):
    claimed = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    unqualified = LeadFactory(stage=Stage.UNQUALIFIED)
    (fresh,) = mqls(1)
    ids = [claimed.pk, unqualified.pk, fresh.pk]

    first = assignment.leads_assign(lead_ids=ids)
    second = assignment.leads_assign(lead_ids=ids)

    assert [a.lead_id for a in first] == [fresh.pk]
    assert second == []
    assert Lead.objects.get(pk=claimed.pk).owner == sales_rep
    assert Lead.objects.get(pk=unqualified.pk).owner is None
    assert Assignment.objects.count() == 1


def test_a_new_mql_is_queued_for_assignment_after_commit(
    team, marketer, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.leads_assign, "delay", queued.append)
    lead = LeadFactory(stage=Stage.UNQUALIFIED)

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer)
        assert queued == []

    assert queued == [[lead.pk]]


def test_many_new_mqls_at_once_make_one_task_per_batch(
    team, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.leads_assign, "delay", queued.append)
    leads = [LeadFactory(stage=Stage.UNQUALIFIED) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.leads_transition_by_rule(
            leads=Lead.objects.all(), to_stage=Stage.MQL, by_rule="scoring:mql"
        )

    assert queued == [sorted(lead.pk for lead in leads)]


def test_the_task_assigns(team):
    (lead,) = mqls(1)

    tasks.leads_assign([lead.pk])

    assert Lead.objects.get(pk=lead.pk).owner is not None


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")


@pytest.mark.django_db(transaction=True)
def test_racing_workers_never_give_a_lead_two_owners():
    require_postgresql()
    the_team, _reps = make_team(reps=4)
    AssignmentRule.objects.create(name="Everyone", team=the_team)
    ids = [lead.pk for lead in mqls(40)]

    # Every worker is handed the same leads (a redelivered task, overlapping batches).
    results = run_in_threads(4, lambda _i: assignment.leads_assign(lead_ids=ids))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(len(r) for r in results) == 40
    assert Assignment.objects.count() == 40
    assert LeadChange.objects.filter(field="owner").count() == 40
    assert sorted(owners_of(Lead.objects.filter(pk__in=ids)).values()) == [10, 10, 10, 10]


@pytest.mark.django_db(transaction=True)
def test_racing_workers_on_different_leads_keep_the_team_even():
    require_postgresql()
    the_team, _reps = make_team(reps=3)
    AssignmentRule.objects.create(name="Everyone", team=the_team)
    batches = [[lead.pk for lead in mqls(10)] for _ in range(6)]

    results = run_in_threads(6, lambda i: assignment.leads_assign(lead_ids=batches[i]))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(owners_of(Lead.objects.all()).values()) == [20, 20, 20]
    assert sorted(RepProfile.objects.values_list("assigned_count", flat=True)) == [20, 20, 20]


def test_an_assignment_goes_to_webhooks_that_take_it(
    team, monkeypatch, django_capture_on_commit_callbacks
):
    from webhooks import services as webhook_services
    from webhooks import tasks as webhook_tasks
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(url="https://hooks.example/a", events=["lead.assigned"])
    WebhookEndpoint.objects.create(url="https://hooks.example/b", events=["lead.created"])
    queued = []
    monkeypatch.setattr(
        webhook_tasks.webhook_event_fan_out, "delay", lambda *args: queued.append(args)
    )
    (lead,) = mqls(1)

    with django_capture_on_commit_callbacks(execute=True):
        made = assignment.lead_assign(lead_id=lead.pk)

    assert [(args[0], args[1], args[3]) for args in queued] == [
        ("lead.assigned", lead.pk, f"assignment:{made.pk}")
    ]
    ids = webhook_services.webhook_event_fan_out(
        event_type=queued[0][0], lead_id=lead.pk, event_key=queued[0][3], details=queued[0][4]
    )
    again = webhook_services.webhook_event_fan_out(
        event_type=queued[0][0], lead_id=lead.pk, event_key=queued[0][3], details=queued[0][4]
    )
    delivery = WebhookDelivery.objects.get(pk=ids[0])
    assert again == ids
    assert delivery.payload["type"] == "lead.assigned"
    assert delivery.payload["data"]["assignment"]["rule_name"] == "Everyone"
    assert delivery.payload["data"]["assignment"]["owner"] == made.owner_id
    assert delivery.payload["data"]["lead"]["id"] == lead.pk

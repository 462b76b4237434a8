"""A lead that already has an owner and then becomes an MQL gets the MQL hand-over clock like any
new MQL: an assignment to its owner from the MQL time with the deadline of the owner's team
calendar, the timeline entry, the notification "new MQL for you" (and e-mail if opted in), and
escalation when nobody answers. Time frozen; deadlines computed by hand."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Lead, LeadChange
from sales import assignment, sla, tasks
from sales.models import Assignment, AssignmentRule, Notification, RepProfile, Team
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# Friday 6 March 2026, 16:00 CET (15:00 UTC). 24 business hours (Mon-Fri 9-17 Berlin): 1 h on
# Friday, 8 h on Monday and Tuesday, 7 h on Wednesday: due Wednesday 11 March 16:00 CET.
FRIDAY_FOUR = datetime(2026, 3, 6, 15, tzinfo=UTC)
WEDNESDAY_FOUR = datetime(2026, 3, 11, 15, tzinfo=UTC)
# Saturday 7 March 2026, 13:00 CET: a 4-hour SLA counts from Monday 9:00, due Monday 13:00 CET.
SATURDAY_ONE = datetime(2026, 3, 7, 12, tzinfo=UTC)
MONDAY_ONE = datetime(2026, 3, 9, 12, tzinfo=UTC)
THURSDAY = datetime(2026, 3, 5, 10, tzinfo=UTC)


def owned_lead(owner, **fields):
    """An unqualified lead the owner entered on Thursday, its assignment recorded then."""
    lead = LeadFactory(stage=Stage.UNQUALIFIED, owner=owner, stage_changed_at=THURSDAY, **fields)
    Assignment.objects.create(lead=lead, owner=owner, by_user=owner, at=THURSDAY)
    return lead


def score_to_mql(lead_ids, moment):
    with time_machine.travel(moment, tick=False):
        lead_services.leads_transition_by_rule(
            leads=Lead.objects.filter(pk__in=lead_ids), to_stage=Stage.MQL, by_rule="scoring:mql"
        )


def test_a_rescoring_gives_the_owner_the_mql_clock_across_the_weekend(
    rep, team, eager, django_capture_on_commit_callbacks
):
    lead = owned_lead(rep, first_name="Max", last_name="Muster")
    earlier = Assignment.objects.get(lead=lead)

    with django_capture_on_commit_callbacks(execute=True):
        score_to_mql([lead.pk], FRIDAY_FOUR)

    earlier.refresh_from_db()
    assert earlier.sla_closed_at is not None
    current = Assignment.objects.get(lead=lead, sla_closed_at__isnull=True)
    assert (current.owner, current.team, current.by_user, current.at, current.sla_due_at) == (
        rep,
        team,
        None,
        FRIDAY_FOUR,
        WEDNESDAY_FOUR,
    )
    assert current.rule_name == "MQL hand-over to its owner"
    notice = Notification.objects.get()
    assert (notice.recipient, notice.lead_id, notice.assignment, notice.kind) == (
        rep,
        lead.pk,
        current,
        "mql",
    )
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert mail.outbox[0].subject == "New MQL for you: Max Muster"
    change = LeadChange.objects.get(lead=lead, field="owner")
    assert (change.old_value, change.new_value, change.by_rule, change.at) == (
        "Ada Rep",
        "Ada Rep",
        "MQL hand-over to its owner",
        FRIDAY_FOUR,
    )
    # The queue's SLA reads the clock.
    from sales import selectors

    sla = selectors.sla_state_for([lead], now=WEDNESDAY_FOUR)[lead.pk]
    assert (sla.due_at, sla.state) == (WEDNESDAY_FOUR, "overdue")


def test_a_lead_without_any_assignment_gets_one_in_its_owners_team_calendar(
    sales_manager, eager, django_capture_on_commit_callbacks
):
    quick = Team.objects.create(name="Quick", sla_hours=4, day_starts=time(9), day_ends=time(17))
    owner = UserFactory(username="bea", first_name="Bea", last_name="Quick", role="sales_rep")
    RepProfile.objects.create(user=owner, team=quick)
    lead = LeadFactory(stage=Stage.UNQUALIFIED, owner=owner, stage_changed_at=THURSDAY)

    with (
        time_machine.travel(SATURDAY_ONE, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=sales_manager)

    (made,) = Assignment.objects.filter(lead=lead)
    assert (made.owner, made.team, made.at, made.sla_due_at, made.sla_closed_at) == (
        owner,
        quick,
        SATURDAY_ONE,
        MONDAY_ONE,
        None,
    )
    assert list(Notification.objects.values_list("recipient", "kind")) == [(owner.pk, "mql")]
    assert mail.outbox == []  # Bea did not opt in


def test_an_owner_without_team_gets_the_default_calendar(other_rep):
    lead = owned_lead(other_rep)
    Lead.objects.filter(pk=lead.pk).update(stage=Stage.MQL, stage_changed_at=FRIDAY_FOUR)

    (made,) = assignment.owned_mqls_hand_over(lead_ids=[lead.pk])

    # The default calendar is the one of a new team: Mon-Fri 9-17 Berlin, 24 hours.
    assert (made.team, made.sla_due_at) == (None, WEDNESDAY_FOUR)


def test_running_it_twice_changes_nothing(rep):
    leads = [owned_lead(rep) for _ in range(3)]
    ids = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=ids).update(stage=Stage.MQL, stage_changed_at=FRIDAY_FOUR)

    first = assignment.owned_mqls_hand_over(lead_ids=ids)
    second = assignment.owned_mqls_hand_over(lead_ids=ids)
    tasks.leads_assign(ids)

    assert (len(first), second) == (3, [])
    assert Assignment.objects.count() == 6
    assert Assignment.objects.filter(sla_closed_at__isnull=True).count() == 3
    assert Notification.objects.count() == 3
    assert LeadChange.objects.count() == 3


def test_leads_assigned_since_they_became_mqls_are_left_alone(rep, team, other_rep):
    AssignmentRule.objects.create(name="Everyone", team=team)
    unowned = LeadFactory(stage=Stage.MQL, owner=None, stage_changed_at=FRIDAY_FOUR)
    # Given to other_rep by a manager after it became an MQL: that change has its own clock.
    later = LeadFactory(stage=Stage.MQL, owner=other_rep, stage_changed_at=FRIDAY_FOUR)
    Assignment.objects.create(lead=later, owner=other_rep, at=FRIDAY_FOUR + timedelta(hours=1))
    not_mql = owned_lead(rep)

    with time_machine.travel(FRIDAY_FOUR, tick=False):
        tasks.leads_assign([unowned.pk, later.pk, not_mql.pk])

    assert Assignment.objects.get(lead=unowned).rule_name == "Everyone"
    assert Assignment.objects.filter(lead=later).count() == 1
    assert Assignment.objects.filter(lead=not_mql).count() == 1
    assert list(Notification.objects.values_list("lead_id", "kind")) == [(unowned.pk, "assigned")]


def test_an_old_clock_of_an_earlier_mql_spell_is_replaced(rep, team):
    lead = LeadFactory(stage=Stage.MQL, owner=rep, stage_changed_at=FRIDAY_FOUR)
    # An MQL once before, left it without an answer (the clock was never stopped).
    old = Assignment.objects.create(
        lead=lead, owner=rep, at=THURSDAY, sla_due_at=THURSDAY + timedelta(days=1)
    )

    with time_machine.travel(FRIDAY_FOUR + timedelta(minutes=1), tick=False):
        (made,) = assignment.owned_mqls_hand_over(lead_ids=[lead.pk])

    old.refresh_from_db()
    assert old.sla_closed_at == FRIDAY_FOUR + timedelta(minutes=1)
    assert (made.at, made.sla_due_at) == (FRIDAY_FOUR, WEDNESDAY_FOUR)


def test_escalation_works_for_a_handed_over_lead(rep, team, sales_manager):
    lead = owned_lead(rep)
    score_to_mql([lead.pk], FRIDAY_FOUR)
    with time_machine.travel(FRIDAY_FOUR, tick=False):
        assignment.owned_mqls_hand_over(lead_ids=[lead.pk])

    assert sla.sla_escalate_overdue(now=WEDNESDAY_FOUR - timedelta(seconds=1)) == []
    escalated = sla.sla_escalate_overdue(now=WEDNESDAY_FOUR)
    again = sla.sla_escalate_overdue(now=WEDNESDAY_FOUR + timedelta(hours=1))

    assert len(escalated) == 1
    assert again == []
    assert list(
        Notification.objects.filter(kind="sla_overdue").values_list("recipient", "lead_id")
    ) == [(sales_manager.pk, lead.pk)]


def test_many_owned_leads_become_mqls_with_one_task_per_chunk(
    rep, monkeypatch, django_capture_on_commit_callbacks
):
    from sales import receivers

    monkeypatch.setattr(receivers, "ASSIGN_CHUNK", 2)
    queued = []
    monkeypatch.setattr(tasks.leads_assign, "delay", queued.append)
    ids = [owned_lead(rep).pk for _ in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        score_to_mql(ids, FRIDAY_FOUR)

    assert queued == [ids[0:2], ids[2:4], ids[4:5]]


def test_a_chunk_costs_the_same_statements_for_2_and_for_8_leads(
    rep, other_rep, django_assert_num_queries
):
    def hand_over(count):
        leads = [owned_lead(rep if n % 2 else other_rep) for n in range(count)]
        ids = [lead.pk for lead in leads]
        Lead.objects.filter(pk__in=ids).update(stage=Stage.MQL, stage_changed_at=FRIDAY_FOUR)
        with CaptureQueriesContext(connection) as queries:
            made = assignment.owned_mqls_hand_over(lead_ids=ids)
        assert len(made) == count
        return len(queries)

    assert hand_over(2) == hand_over(8)
    leads = [owned_lead(rep) for _ in range(4)]
    ids = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=ids).update(stage=Stage.MQL, stage_changed_at=FRIDAY_FOUR)
    # A savepoint; lock the leads, read their assignments since the MQL time, the owners, their
    # teams, stop the old clocks, insert the assignments, the timeline entries, the
    # notifications, find who wants e-mail, the webhook check; release the savepoint.
    with django_assert_num_queries(12):
        assignment.owned_mqls_hand_over(lead_ids=ids)


@pytest.mark.django_db(transaction=True)
def test_hand_overs_racing_a_reassignment_leave_one_running_clock_for_the_owner():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    from tests.concurrency import run_in_threads

    manager = UserFactory(username="boss", role="sales_manager")
    ada = UserFactory(username="ada-race", role="sales_rep")
    bob = UserFactory(username="bob-race", role="sales_rep")
    leads = [owned_lead(ada) for _ in range(10)]
    ids = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=ids).update(stage=Stage.MQL, stage_changed_at=FRIDAY_FOUR)

    def work(index):
        if index < 2:
            return assignment.owned_mqls_hand_over(lead_ids=ids)
        return assignment.leads_reassign(lead_ids=ids, to_user=bob, by_user=manager)

    results = run_in_threads(4, work)

    assert not [r for r in results if isinstance(r, Exception)]
    assert set(Lead.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {bob.pk}
    running = Assignment.objects.filter(lead_id__in=ids, sla_closed_at__isnull=True)
    assert sorted(running.values_list("lead_id", "owner_id")) == [(pk, bob.pk) for pk in ids]

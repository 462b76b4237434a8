"""Every owner change is an assignment: the lead form and API, the lead list's bulk assign, a claim
and a rep taking the MQL they qualify each give the new owner an Assignment, the timeline entry,
the notification (and e-mail if they opted in) and for an MQL the SLA deadline; a rep who takes a
lead themselves is not notified. MQLs no rule could place are placed by the beat once a rep is
back or has room. Time frozen; races on real PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from leads import list_services
from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Lead, LeadChange
from sales import assignment, tasks, teams
from sales.models import Assignment, AssignmentRule, Notification, RepProfile, Team
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 10:00 in Berlin (CET). 24 business hours (Mon-Fri 9-17 Berlin): 7 h on
# Monday, 8 on Tuesday and Wednesday = 23, one more on Thursday: due Thursday 5 March 10:00 CET.
MONDAY_TEN = datetime(2026, 3, 2, 9, tzinfo=UTC)
THURSDAY_TEN = datetime(2026, 3, 5, 9, tzinfo=UTC)
BULK_URL = reverse("leads:bulk")


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY_TEN, tick=False) as traveller:
        yield traveller


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def running(lead):
    return list(Assignment.objects.filter(lead=lead, sla_closed_at__isnull=True))


# --- each path ----------------------------------------------------------------------------------


def by_lead_form(lead, manager, rep, client):
    lead_services.lead_update(lead_id=lead.pk, by_user=manager, owner=rep)


def by_api_patch(lead, manager, rep, client):
    response = api_as(manager).patch(
        reverse("api-lead-detail", args=[lead.pk]), {"owner": rep.pk}, format="json"
    )
    assert response.status_code == 200


def by_bulk_assign(lead, manager, rep, client):
    client.force_login(manager)
    response = client.post(BULK_URL, {"action": "assign", "owner": rep.pk, "lead": [lead.pk]})
    assert response.status_code == 302


@pytest.mark.parametrize("path", [by_lead_form, by_api_patch, by_bulk_assign])
def test_a_manager_giving_an_mql_to_a_rep_makes_one_assignment_with_sla_and_notice(
    path, frozen, eager, rep, team, sales_manager, client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.MQL, owner=None, first_name="Max", last_name="Muster")

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, sales_manager, rep, client)

    made = Assignment.objects.get(lead=lead)
    assert (made.owner, made.by_user, made.rule, made.team) == (rep, sales_manager, None, team)
    assert (made.at, made.sla_due_at, made.sla_closed_at) == (MONDAY_TEN, THURSDAY_TEN, None)
    notice = Notification.objects.get()
    assert (notice.recipient, notice.lead_id, notice.assignment, notice.kind) == (
        rep,
        lead.pk,
        made,
        "assigned",
    )
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "Max Muster" in mail.outbox[0].subject
    change = LeadChange.objects.get(lead=lead, field="owner")
    assert (change.old_value, change.new_value, change.by_user) == ("", "Ada Rep", sales_manager)


def test_a_lead_created_with_an_owner_is_on_the_timeline_and_assigned_without_sla(
    frozen, eager, rep, sales_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_services.lead_create(
            created_by=sales_manager, email="new@example.com", owner=rep
        )

    made = Assignment.objects.get(lead=lead)
    assert (made.owner, made.by_user, made.at, made.sla_due_at) == (
        rep,
        sales_manager,
        MONDAY_TEN,
        None,
    )
    assert Notification.objects.get().recipient == rep
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.new_value) == ("owner", "", "Ada Rep")


# --- the open opportunity follows -------------------------------------------------------------


@pytest.mark.parametrize("path", [by_lead_form, by_api_patch, by_bulk_assign])
def test_the_open_opportunity_follows_the_new_owner_and_closed_ones_stay(
    path, frozen, eager, rep, sales_rep, sales_manager, client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.OPPORTUNITY, owner=sales_rep)
    open_deal = OpportunityFactory(lead=lead, owner=sales_rep)
    won = OpportunityFactory(lead=lead, owner=sales_rep, status="won")
    lost = OpportunityFactory(lead=lead, owner=sales_rep, status="lost")
    elsewhere = OpportunityFactory(
        lead=LeadFactory(stage=Stage.OPPORTUNITY, owner=sales_rep), owner=sales_rep
    )

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, sales_manager, rep, client)

    owners = {
        deal.pk: deal.owner_id
        for deal in type(open_deal).objects.filter(
            pk__in=[open_deal.pk, won.pk, lost.pk, elsewhere.pk]
        )
    }
    assert owners == {
        open_deal.pk: rep.pk,
        won.pk: sales_rep.pk,
        lost.pk: sales_rep.pk,
        elsewhere.pk: sales_rep.pk,
    }


def test_a_claimed_mqls_open_opportunity_goes_to_the_claimer(
    frozen, eager, rep, client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    deal = OpportunityFactory(lead=lead, owner=None)

    with django_capture_on_commit_callbacks(execute=True):
        claim_by_api(lead, rep, client)

    deal.refresh_from_db()
    assert deal.owner == rep


def test_moving_the_opportunity_is_idempotent_and_follows_only_the_current_owner(
    frozen, rep, sales_rep, sales_manager
):
    lead = LeadFactory(stage=Stage.OPPORTUNITY, owner=rep)
    deal = OpportunityFactory(lead=lead, owner=sales_rep)
    change = {"lead_ids": [lead.pk], "by_user_id": sales_manager.pk, "at": MONDAY_TEN}

    # A stale change to someone who no longer owns the lead moves nothing.
    assignment.owner_change_record(owner_id=sales_rep.pk, **change)
    deal.refresh_from_db()
    assert deal.owner == sales_rep
    assignment.owner_change_record(owner_id=rep.pk, **change)
    assignment.owner_change_record(owner_id=rep.pk, **change)

    deal.refresh_from_db()
    assert deal.owner == rep


def claim_in_the_browser(lead, rep, client):
    client.force_login(rep)
    client.post(reverse("leads:claim", args=[lead.pk]))


def claim_by_api(lead, rep, client):
    assert api_as(rep).post(reverse("api-lead-claim", args=[lead.pk])).status_code == 200


def assign_oneself_by_api(lead, rep, client):
    response = api_as(rep).patch(
        reverse("api-lead-detail", args=[lead.pk]), {"owner": rep.pk}, format="json"
    )
    assert response.status_code == 200


def assign_oneself_in_bulk(lead, rep, client):
    client.force_login(rep)
    client.post(BULK_URL, {"action": "assign", "owner": rep.pk, "lead": [lead.pk]})


@pytest.mark.parametrize(
    "path", [claim_in_the_browser, claim_by_api, assign_oneself_by_api, assign_oneself_in_bulk]
)
def test_a_rep_who_takes_an_mql_has_its_sla_but_no_notice(
    path, frozen, eager, rep, team, client, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    with django_capture_on_commit_callbacks(execute=True):
        path(lead, rep, client)

    made = Assignment.objects.get(lead=lead)
    assert (made.owner, made.by_user, made.team, made.sla_due_at) == (
        rep,
        rep,
        team,
        THURSDAY_TEN,
    )
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_rep_who_qualifies_an_unassigned_mql_takes_it_without_sla_or_notice(
    frozen, eager, rep, django_capture_on_commit_callbacks
):
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.SQL, by_user=rep)

    made = Assignment.objects.get(lead=lead)
    assert (made.owner, made.by_user, made.sla_due_at, made.sla_closed_at) == (
        rep,
        rep,
        None,
        None,
    )
    assert not Notification.objects.exists()


def test_a_change_of_owner_stops_the_previous_clock(
    frozen, eager, rep, team, sales_manager, django_capture_on_commit_callbacks
):
    AssignmentRule.objects.create(name="Everyone", team=team)
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    first = assignment.lead_assign(lead_id=lead.pk)
    other = UserFactory(username="bob", role="sales_rep")
    frozen.shift(timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_update(lead_id=lead.pk, by_user=sales_manager, owner=other)

    first.refresh_from_db()
    assert (first.owner, first.sla_closed_at) == (rep, MONDAY_TEN + timedelta(hours=2))
    (current,) = running(lead)
    # Bob is in no team: the default calendar (Mon-Fri 9-17 Berlin) from Monday 12:00 CET.
    assert (current.owner, current.team, current.by_user, current.sla_due_at) == (
        other,
        None,
        sales_manager,
        THURSDAY_TEN + timedelta(hours=2),
    )
    assert Notification.objects.filter(recipient=other).count() == 1


def test_unassigning_stops_the_clock_and_assigns_nobody(
    frozen, eager, rep, team, sales_manager, django_capture_on_commit_callbacks
):
    AssignmentRule.objects.create(name="Everyone", team=team)
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    assignment.lead_assign(lead_id=lead.pk)

    with django_capture_on_commit_callbacks(execute=True):
        list_services.leads_assign(lead_ids=[lead.pk], owner=None, by_user=sales_manager)

    assert Assignment.objects.count() == 1
    assert running(lead) == []
    assert Assignment.objects.get().sla_closed_at == MONDAY_TEN


def test_a_new_owner_is_queued_once_per_batch_after_commit(
    rep, sales_manager, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.owner_change_record, "delay", lambda *args: queued.append(args))
    leads = LeadFactory.create_batch(3, stage=Stage.MQL, owner=None)
    ids = [lead.pk for lead in leads]

    with (
        time_machine.travel(MONDAY_TEN, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        list_services.leads_assign(lead_ids=ids, owner=rep, by_user=sales_manager)
        assert queued == []

    assert queued == [(sorted(ids), rep.pk, sales_manager.pk, "2026-03-02T09:00:00+00:00")]


def test_recording_twice_or_late_assigns_nothing_twice(frozen, rep, sales_manager):
    lead = LeadFactory(stage=Stage.MQL, owner=rep)
    change = {"lead_ids": [lead.pk], "owner_id": rep.pk, "by_user_id": sales_manager.pk}

    first = assignment.owner_change_record(**change, at=MONDAY_TEN)
    again = assignment.owner_change_record(**change, at=MONDAY_TEN)
    # Another owner meanwhile: this change is stale, the later one records itself.
    other = UserFactory(username="bob", role="sales_rep")
    Lead.objects.filter(pk=lead.pk).update(owner=other)
    stale = assignment.owner_change_record(**change, at=MONDAY_TEN)

    assert [(a.lead_id, a.owner_id) for a in first] == [(lead.pk, rep.pk)]
    assert (again, stale) == ([], [])
    assert Assignment.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_change_recorded_after_a_later_one_is_dropped(frozen, rep, sales_manager):
    """A to Bob, then Bob to Ada: Ada's task runs first, Bob's late one finds a newer one."""
    other = UserFactory(username="bob", role="sales_rep")
    lead = LeadFactory(stage=Stage.MQL, owner=rep)
    later = MONDAY_TEN + timedelta(minutes=1)

    assignment.owner_change_record(
        lead_ids=[lead.pk], owner_id=rep.pk, by_user_id=sales_manager.pk, at=later
    )
    Lead.objects.filter(pk=lead.pk).update(owner=other)  # as if Bob's change were the last
    late = assignment.owner_change_record(
        lead_ids=[lead.pk], owner_id=other.pk, by_user_id=sales_manager.pk, at=MONDAY_TEN
    )

    assert late == []
    assert list(Assignment.objects.values_list("owner_id", "at")) == [(rep.pk, later)]


def test_the_bulk_path_costs_the_same_queries_for_2_and_for_8_leads(
    frozen, rep, sales_manager, monkeypatch, django_capture_on_commit_callbacks
):
    # The recording runs at once; the e-mails (one a notification, by nature) are only queued.
    monkeypatch.setattr(tasks.owner_change_record, "delay", tasks.owner_change_record)
    emails = []
    monkeypatch.setattr(tasks.notifications_email, "delay", emails.append)

    def assign(count):
        ids = [lead.pk for lead in LeadFactory.create_batch(count, stage=Stage.MQL, owner=None)]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            list_services.leads_assign(lead_ids=ids, owner=rep, by_user=sales_manager)
        return len(queries)

    assign(1)  # what a first call caches (the roles, the permissions)
    two, eight = assign(2), assign(8)

    assert two == eight
    assert [len(chunk) for chunk in emails] == [1, 2, 8]
    assert Assignment.objects.count() == 11
    assert Notification.objects.filter(recipient=rep).count() == 11


def test_recording_a_batch_takes_nine_queries_and_a_savepoint(
    frozen, rep, sales_manager, django_assert_num_queries
):
    leads = LeadFactory.create_batch(6, stage=Stage.MQL, owner=rep)

    # A savepoint; lock the leads, move their open opportunities, read their running or newer
    # assignments, stop old clocks, the owner's team, insert the assignments, insert the
    # notifications, find who wants e-mail, the webhook check; release the savepoint.
    with django_assert_num_queries(11):
        made = assignment.owner_change_record(
            lead_ids=[lead.pk for lead in leads],
            owner_id=rep.pk,
            by_user_id=sales_manager.pk,
            at=MONDAY_TEN,
        )

    assert len(made) == 6


def test_a_manual_assignment_goes_to_webhooks_that_take_it(
    frozen, rep, sales_manager, monkeypatch, django_capture_on_commit_callbacks
):
    from webhooks import tasks as webhook_tasks
    from webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.create(url="https://hooks.example/a", events=["lead.assigned"])
    queued = []
    monkeypatch.setattr(
        webhook_tasks.webhook_event_fan_out, "delay", lambda *args: queued.append(args)
    )
    lead = LeadFactory(stage=Stage.MQL, owner=rep)

    with django_capture_on_commit_callbacks(execute=True):
        (made,) = assignment.owner_change_record(
            lead_ids=[lead.pk], owner_id=rep.pk, by_user_id=sales_manager.pk, at=MONDAY_TEN
        )

    ((event, lead_id, _none, key, details),) = queued
    assert (event, lead_id, key) == ("lead.assigned", lead.pk, f"assignment:{made.pk}")
    assert (details["owner"], details["by_user"], details["rule"], details["sla_due_at"]) == (
        rep.pk,
        sales_manager.pk,
        None,
        "2026-03-05T09:00:00+00:00",
    )


def test_the_database_refuses_a_second_running_assignment(rep):
    from django.db import IntegrityError, transaction

    lead = LeadFactory(stage=Stage.MQL, owner=rep)
    Assignment.objects.create(lead=lead, owner=rep)

    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(lead=lead, owner=rep)


# --- MQLs that waited -------------------------------------------------------------------------


@pytest.fixture
def full_team(team, rep):
    """Ada, the team's only rep, holds one open MQL and has room for one."""
    AssignmentRule.objects.create(name="Everyone", team=team)
    RepProfile.objects.filter(user=rep).update(capacity=1)
    held = LeadFactory(stage=Stage.MQL, owner=rep)
    return held


def test_a_waiting_mql_is_placed_once_the_rep_has_room(frozen, full_team, rep):
    (waiting,) = LeadFactory.create_batch(1, stage=Stage.MQL, owner=None)
    assert assignment.lead_assign(lead_id=waiting.pk) is None

    assert assignment.mqls_place_waiting() == 0
    Lead.objects.filter(pk=full_team.pk).update(stage=Stage.NURTURE)
    placed = assignment.mqls_place_waiting()
    again = assignment.mqls_place_waiting()

    assert (placed, again) == (1, 0)
    made = Assignment.objects.get(lead=waiting)
    assert (made.owner, made.rule_name, made.by_user, made.sla_due_at) == (
        rep,
        "Everyone",
        None,
        THURSDAY_TEN,
    )
    assert Notification.objects.filter(lead=waiting, recipient=rep).count() == 1
    assert LeadChange.objects.get(lead=waiting).by_rule == "Assignment: Everyone"


def test_a_waiting_mql_is_placed_once_the_rep_is_back(frozen, team, rep):
    AssignmentRule.objects.create(name="Everyone", team=team)
    RepProfile.objects.filter(user=rep).update(
        away=True, away_until=MONDAY_TEN + timedelta(hours=1)
    )
    waiting = LeadFactory(stage=Stage.MQL, owner=None)

    assert assignment.mqls_place_waiting() == 0
    frozen.shift(timedelta(minutes=59))
    assert assignment.mqls_place_waiting() == 0
    frozen.shift(timedelta(minutes=1))
    assert assignment.mqls_place_waiting() == 1

    waiting.refresh_from_db()
    assert waiting.owner == rep


def test_the_longest_waiting_mql_gets_the_free_seat(frozen, full_team, rep):
    newer = LeadFactory(stage=Stage.MQL, owner=None, stage_changed_at=MONDAY_TEN)
    older = LeadFactory(
        stage=Stage.MQL, owner=None, stage_changed_at=MONDAY_TEN - timedelta(days=2)
    )
    Lead.objects.filter(pk=full_team.pk).update(stage=Stage.NURTURE)

    assert assignment.mqls_place_waiting() == 1

    assert list(Lead.objects.filter(owner=rep, stage=Stage.MQL).values_list("pk", flat=True)) == [
        older.pk
    ]
    assert Lead.objects.get(pk=newer.pk).owner is None


def test_leads_no_open_rule_matches_do_not_block_those_one_does(frozen, team, rep):
    AssignmentRule.objects.create(name="DACH", team=team, countries=["DE", "AT", "CH"])
    old = MONDAY_TEN - timedelta(days=5)
    elsewhere = [
        LeadFactory(stage=Stage.MQL, owner=None, country="US", stage_changed_at=old)
        for _ in range(4)
    ]
    german = LeadFactory(stage=Stage.MQL, owner=None, country="DE")

    assert assignment.mqls_place_waiting(batch=2) == 1

    assert Lead.objects.get(pk=german.pk).owner == rep
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in elsewhere], owner__isnull=False)


@pytest.mark.parametrize(
    ("change", "queued"),
    [
        ({"away": False}, 1),
        ({"capacity": 5}, 1),
        ({"capacity": None}, 1),
        ({"away": True}, 0),
        ({"notify_by_email": False}, 0),
    ],
)
def test_a_change_that_may_make_room_queues_the_retry_at_once(
    change, queued, rep, sales_manager, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(tasks.mqls_place_waiting, "delay", lambda: calls.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        teams.rep_profile_update(user=rep, by_user=sales_manager, **change)

    assert len(calls) == queued


def test_a_run_places_at_most_its_limit(frozen, team, rep):
    AssignmentRule.objects.create(name="Everyone", team=team)
    LeadFactory.create_batch(5, stage=Stage.MQL, owner=None)

    assert assignment.mqls_place_waiting(batch=2, limit=3) == 3
    assert assignment.mqls_place_waiting(batch=2, limit=3) == 2
    assert Lead.objects.filter(owner=rep).count() == 5


def test_nobody_with_room_costs_one_query(frozen, full_team, django_assert_num_queries):
    LeadFactory.create_batch(3, stage=Stage.MQL, owner=None)

    with django_assert_num_queries(1):
        assert assignment.mqls_place_waiting() == 0


def test_beat_runs_the_retry_every_two_minutes(frozen, full_team, rep):
    waiting = LeadFactory(stage=Stage.MQL, owner=None)
    Lead.objects.filter(pk=full_team.pk).update(stage=Stage.NURTURE)

    entry = settings.CELERY_BEAT_SCHEDULE["sales-place-waiting"]
    assert (entry["task"], entry["schedule"]) == ("sales.tasks.mqls_place_waiting", 120.0)
    tasks.mqls_place_waiting()

    assert Lead.objects.get(pk=waiting.pk).owner == rep


# --- races --------------------------------------------------------------------------------------


def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")


@pytest.mark.django_db(transaction=True)
def test_retries_racing_a_manual_bulk_assign_never_double_own(monkeypatch):
    require_postgresql()
    # The recording task runs in the thread that committed the change, right after the commit.
    monkeypatch.setattr(tasks.owner_change_record, "delay", tasks.owner_change_record)
    the_team = Team.objects.create(name="Inside sales")
    for index in range(2):
        user = UserFactory(username=f"team-rep{index}", role="sales_rep")
        RepProfile.objects.create(user=user, team=the_team)
    AssignmentRule.objects.create(name="Everyone", team=the_team)
    manager = UserFactory(username="boss", role="sales_manager")
    chosen = UserFactory(username="chosen", role="sales_rep")
    ids = [lead.pk for lead in LeadFactory.create_batch(20, stage=Stage.MQL, owner=None)]

    def work(index):
        if index < 2:
            return assignment.mqls_place_waiting()
        return list_services.leads_assign(lead_ids=ids, owner=chosen, by_user=manager)

    results = run_in_threads(4, work)

    assert not [r for r in results if isinstance(r, Exception)]
    assert set(Lead.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {chosen.pk}
    per_lead = Assignment.objects.values("lead_id").annotate(
        running=Count("id", filter=Q(sla_closed_at__isnull=True)),
        chosen=Count("id", filter=Q(sla_closed_at__isnull=True, owner=chosen)),
    )
    assert sorted((row["running"], row["chosen"]) for row in per_lead) == [(1, 1)] * 20
    assert Notification.objects.filter(recipient=chosen).count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_claims_gives_the_lead_one_owner_and_one_clock(monkeypatch):
    require_postgresql()
    monkeypatch.setattr(tasks.owner_change_record, "delay", tasks.owner_change_record)
    the_team = Team.objects.create(name="Inside sales")
    member = UserFactory(username="team-rep", role="sales_rep")
    RepProfile.objects.create(user=member, team=the_team)
    AssignmentRule.objects.create(name="Everyone", team=the_team)
    claimers = [UserFactory(username=f"claimer{i}", role="sales_rep") for i in range(2)]
    lead = LeadFactory(stage=Stage.MQL, owner=None)

    def work(index):
        if index < 2:
            return assignment.mqls_place_waiting()
        return lead_services.lead_claim(lead_id=lead.pk, user=claimers[index - 2])

    results = run_in_threads(4, work)

    winners = [r for r in results if isinstance(r, Lead) or r == 1]
    assert len(winners) == 1
    owner_id = Lead.objects.get(pk=lead.pk).owner_id
    (clock,) = running(lead)
    assert clock.owner_id == owner_id
    assert Assignment.objects.filter(lead=lead).count() == 1

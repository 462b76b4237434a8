"""The SLA (frozen time): flagged when overdue, escalated once to the manager, stopped by accept
or reject; notifications, the header counter and e-mails for those who opted in."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from leadcrm.celery import app as celery_app
from leads.lifecycle import Stage
from leads.models import Lead
from sales import assignment, notifications, selectors, services, sla, tasks
from sales.models import Assignment, AssignmentRule, Notification, RejectionReason, RepProfile, Team
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


# Friday 6 March 2026, 16:00 CET (15:00 UTC). 24 business hours (Mon-Fri 9-17 Berlin): 1 h on
# Friday, 8 h each Monday to Wednesday = 25 h; so due Wednesday 11 March at 16:00 CET (15:00 UTC).
FRIDAY_FOUR = datetime(2026, 3, 6, 15, tzinfo=UTC)
DUE = datetime(2026, 3, 11, 15, tzinfo=UTC)


@pytest.fixture
def setup(sales_manager):
    team = Team.objects.create(name="Inside sales")
    team.managers.add(sales_manager)
    rep = UserFactory(username="sla-rep", role="sales_rep", email="sla-rep@example.com")
    RepProfile.objects.create(user=rep, team=team)
    AssignmentRule.objects.create(name="Everyone", team=team)
    return team, rep


def assign_at(moment, count=1):
    with time_machine.travel(moment, tick=False):
        leads = [LeadFactory(stage=Stage.MQL, owner=None) for _ in range(count)]
        assignment.leads_assign(lead_ids=[lead.pk for lead in leads])
    return leads


def test_the_sla_is_due_after_24_business_hours_across_the_weekend(setup):
    (lead,) = assign_at(FRIDAY_FOUR)

    assert Assignment.objects.get(lead=lead).sla_due_at == DUE


@pytest.mark.parametrize(
    ("moment", "state"),
    [(DUE - timedelta(minutes=1), "ok"), (DUE, "overdue"), (DUE + timedelta(days=3), "overdue")],
)
def test_the_queue_sees_the_sla_state_of_a_page_of_leads(setup, moment, state):
    (lead,) = assign_at(FRIDAY_FOUR)
    other = LeadFactory(stage=Stage.UNQUALIFIED)

    states = selectors.sla_state_for([lead, other], now=moment)

    assert (states[lead.pk].due_at, states[lead.pk].state) == (DUE, state)
    assert (states[other.pk].due_at, states[other.pk].state) == (None, "none")


def test_the_sla_annotation_costs_no_extra_query(setup, django_assert_num_queries):
    assign_at(FRIDAY_FOUR, count=5)

    with django_assert_num_queries(1):
        rows = list(selectors.leads_with_sla(Lead.objects.all(), now=DUE))

    assert [row.sla_state for row in rows] == ["overdue"] * 5


def test_it_escalates_an_overdue_mql_once_to_the_teams_manager(setup, sales_manager):
    _team, _rep = setup
    (lead,) = assign_at(FRIDAY_FOUR)

    with time_machine.travel(DUE - timedelta(seconds=1), tick=False):
        assert sla.sla_escalate_overdue() == []
    with time_machine.travel(DUE, tick=False):
        first = sla.sla_escalate_overdue()
    with time_machine.travel(DUE + timedelta(hours=1), tick=False):
        second = sla.sla_escalate_overdue()
        tasks.sla_escalate_overdue()

    assert len(first) == 1
    assert second == []
    escalations = Notification.objects.filter(kind=Notification.Kind.SLA_OVERDUE)
    assert [(n.recipient, n.lead_id) for n in escalations] == [(sales_manager, lead.pk)]
    assert Assignment.objects.get(lead=lead).escalated_at == DUE


def test_without_team_managers_every_sales_manager_hears_of_it(setup, sales_manager):
    team, _rep = setup
    team.managers.clear()
    other_manager = UserFactory(username="manager2", role="sales_manager")
    assign_at(FRIDAY_FOUR)

    sla.sla_escalate_overdue(now=DUE)

    recipients = Notification.objects.filter(kind="sla_overdue").values_list("recipient", flat=True)
    assert sorted(recipients) == sorted([sales_manager.pk, other_manager.pk])


def test_accepting_stops_the_clock(setup):
    _team, rep = setup
    (lead,) = assign_at(FRIDAY_FOUR)
    services.qualification_policy_update(by_user=rep, bant_minimum=0, meddic_minimum=0)

    with time_machine.travel(DUE - timedelta(hours=1), tick=False):
        services.qualification_accept(lead_id=lead.pk, by_user=rep)

    assert Assignment.objects.get(lead=lead).sla_closed_at == DUE - timedelta(hours=1)
    assert sla.sla_escalate_overdue(now=DUE) == []
    assert selectors.sla_state_for([lead], now=DUE)[lead.pk].state == "none"


def test_rejecting_stops_the_clock(setup):
    _team, rep = setup
    (lead,) = assign_at(FRIDAY_FOUR)

    services.qualification_reject(
        lead_id=lead.pk, by_user=rep, reason=RejectionReason.objects.get(code="no-need")
    )

    assert Assignment.objects.get(lead=lead).sla_closed_at is not None
    assert sla.sla_escalate_overdue(now=DUE) == []


def test_a_reassigned_mql_gets_a_new_clock_and_the_old_one_never_escalates(
    setup, sales_manager, other_rep
):
    (lead,) = assign_at(FRIDAY_FOUR)
    # Reassigned on Monday 9 March 10:00 CET; other_rep has no team: the default calendar
    # (24 business hours, Mon-Fri 9-17 Berlin) makes it Thursday 12 March 10:00 CET.
    with time_machine.travel(datetime(2026, 3, 9, 9, tzinfo=UTC), tick=False):
        assignment.leads_reassign(lead_ids=[lead.pk], to_user=other_rep, by_user=sales_manager)

    old, new = Assignment.objects.filter(lead=lead).order_by("at")
    assert old.sla_closed_at == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert (new.owner, new.by_user, new.sla_due_at) == (
        other_rep,
        sales_manager,
        datetime(2026, 3, 12, 9, tzinfo=UTC),
    )
    assert sla.sla_escalate_overdue(now=DUE) == []


def test_the_new_owner_is_notified_and_the_counter_counts_unread(setup, client):
    _team, rep = setup
    assign_at(FRIDAY_FOUR, count=2)
    client.force_login(rep)

    assert selectors.unread_notification_count(rep) == 2
    badge = client.get(reverse("sales:notification-badge"))
    assert b">2</span>" in badge.content

    page = client.get(reverse("sales:notifications"))
    assert page.status_code == 200
    assert page.content.count(b"notify-unread") == 2
    assert selectors.unread_notification_count(rep) == 0
    assert b"notify-count" not in client.get(reverse("sales:notification-badge")).content


def test_the_header_loads_the_counter_without_a_query_of_its_own(setup, client):
    _team, rep = setup
    client.force_login(rep)

    page = client.get(reverse("sales:my-tasks"))

    assert reverse("sales:notification-badge").encode() in page.content


def test_only_reps_who_opted_in_get_an_e_mail_once(
    setup, eager, django_capture_on_commit_callbacks
):
    _team, rep = setup
    quiet = UserFactory(username="quiet", role="sales_rep", email="quiet@example.com")
    RepProfile.objects.create(user=quiet, team=_team)
    RepProfile.objects.filter(user=rep).update(notify_by_email=True)
    leads = [
        LeadFactory(stage=Stage.MQL, owner=None, first_name="Ada", last_name="L") for _ in range(2)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assignment.leads_assign(lead_ids=[lead.pk for lead in leads])

    assert [m.to for m in mail.outbox] == [["sla-rep@example.com"]]
    assert "Ada L" in mail.outbox[0].subject
    notification = Notification.objects.get(recipient=rep)
    assert notification.emailed_at is not None
    assert notifications.notification_email_send(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_manager_who_opted_in_gets_the_escalation_by_e_mail(
    setup, sales_manager, eager, django_capture_on_commit_callbacks
):
    sales_manager.email = "boss@example.com"
    sales_manager.save()
    RepProfile.objects.create(user=sales_manager, notify_by_email=True)
    assign_at(FRIDAY_FOUR)

    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_escalate_overdue(now=DUE)

    assert [m.to for m in mail.outbox] == [["boss@example.com"]]
    assert "not accepted in time" in mail.outbox[0].subject


def test_marking_read_touches_only_ones_own(setup, sales_manager):
    _team, rep = setup
    assign_at(FRIDAY_FOUR)
    sla.sla_escalate_overdue(now=DUE)
    mine = Notification.objects.get(recipient=rep)

    assert notifications.notifications_mark_read(user=sales_manager, ids=[mine.pk]) == 0
    assert notifications.notifications_mark_read(user=rep, ids=[mine.pk]) == 1


def test_an_mql_that_left_and_came_back_does_not_inherit_its_old_clock(setup, marketer):
    from leads import services as lead_services

    _team, rep = setup
    (lead,) = assign_at(FRIDAY_FOUR)
    # Moved on by the generic stage form (no accept), later recycled back to MQL: the owner stays.
    with time_machine.travel(FRIDAY_FOUR + timedelta(hours=1), tick=False):
        lead_services.lead_transition(
            lead_id=lead.pk, to_stage=Stage.NURTURE, by_user=marketer, reason="Not now"
        )
        lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_user=marketer)

    assert Lead.objects.get(pk=lead.pk).owner == rep
    assert sla.sla_escalate_overdue(now=DUE) == []
    assert selectors.sla_state_for([lead], now=DUE)[lead.pk].state == "none"


def test_beat_runs_the_escalation_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sales-sla-escalate"]

    assert (entry["task"], entry["schedule"]) == ("sales.tasks.sla_escalate_overdue", 60.0)
    assert "sales.tasks.sla_escalate_overdue" in celery_app.tasks

"""The rep's queue: whose leads, in which order, what each row says, who may open it, and its
bulk actions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.lifecycle import Stage
from leads.models import Activity, Lead, StageTransition
from sales.models import Assignment, RepProfile, Team
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("sales:queue")
BULK_URL = reverse("sales:queue-bulk")


def last_names(response) -> list[str]:
    return [lead.last_name for lead in response.context["leads"]]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_a_rep_sees_their_open_mqls_and_sqls_best_rank_then_newest_hand_over(
    client, sales_rep, other_rep
):
    LeadFactory(
        last_name="B2 older", stage=Stage.SQL, owner=sales_rep, rank="B2", stage_changed_at=at(1)
    )
    LeadFactory(
        last_name="B2 newer", stage=Stage.MQL, owner=sales_rep, rank="B2", stage_changed_at=at(5)
    )
    LeadFactory(last_name="A1", stage=Stage.SQL, owner=sales_rep, rank="A1", stage_changed_at=at(2))
    LeadFactory(last_name="D4", stage=Stage.MQL, owner=sales_rep, rank="D4", stage_changed_at=at(9))
    LeadFactory(last_name="Customer", stage=Stage.CUSTOMER, owner=sales_rep, rank="A1")
    LeadFactory(last_name="Not mine", stage=Stage.SQL, owner=other_rep, rank="A1")
    LeadFactory(last_name="Unassigned", stage=Stage.MQL, rank="A1")
    client.force_login(sales_rep)

    response = client.get(QUEUE_URL)

    assert last_names(response) == ["A1", "B2 newer", "B2 older", "D4"]
    assert "4 leads" in response.content.decode()


def test_each_row_shows_sla_last_activity_and_next_task(client, sales_rep):
    now = timezone.now()
    late = LeadFactory(
        last_name="Late", stage=Stage.MQL, owner=sales_rep, stage_changed_at=now - timedelta(days=3)
    )
    Assignment.objects.create(
        lead=late, owner=sales_rep, at=now - timedelta(days=3), sla_due_at=now - timedelta(hours=5)
    )
    fine = LeadFactory(last_name="Fine", stage=Stage.MQL, owner=sales_rep, stage_changed_at=now)
    Assignment.objects.create(
        lead=fine, owner=sales_rep, at=now, sla_due_at=now + timedelta(hours=20)
    )
    ActivityFactory(
        lead=fine, kind=Activity.Kind.CALL, subject="First call", created_at=now - timedelta(days=1)
    )
    ActivityFactory(
        lead=fine, kind=Activity.Kind.TASK, subject="Send the deck", due_at=now + timedelta(days=2)
    )
    ActivityFactory(
        lead=fine, kind=Activity.Kind.TASK, subject="Later", due_at=now + timedelta(days=9)
    )
    client.force_login(sales_rep)

    response = client.get(QUEUE_URL)
    rows = {lead.last_name: lead for lead in response.context["leads"]}

    assert rows["Late"].sla_state == "overdue"
    assert rows["Fine"].sla_state == "ok"
    assert rows["Fine"].next_task_subject == "Send the deck"
    assert rows["Fine"].last_activity_at is not None
    body = response.content.decode()
    assert body.count('class="sla sla-overdue"') == 1
    # In the largest unit only, so the column stays narrow: not "19 hours, 59 minutes".
    assert "19\xa0hours left" in body
    assert "hours, " not in body
    assert '<span class="muted small">5\xa0hours</span>' in body
    assert "Send the deck" in body
    assert "Later" not in body
    only_overdue = client.get(QUEUE_URL, {"overdue": "on"})
    assert last_names(only_overdue) == ["Late"]


def test_filters_narrow_the_queue_to_a_stage(client, sales_rep):
    LeadFactory(last_name="M", stage=Stage.MQL, owner=sales_rep)
    LeadFactory(last_name="S", stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    assert last_names(client.get(QUEUE_URL, {"stage": "sql"})) == ["S"]


def test_a_rep_cannot_open_another_reps_queue(client, sales_rep, other_rep):
    client.force_login(sales_rep)

    assert client.get(QUEUE_URL, {"owner": other_rep.pk}).status_code == 403


def test_a_manager_opens_a_reps_queue(client, sales_manager, sales_rep):
    LeadFactory(last_name="Theirs", stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_manager)

    response = client.get(QUEUE_URL, {"owner": sales_rep.pk})

    assert last_names(response) == ["Theirs"]
    assert response.context["owner"] == sales_rep
    assert f"Queue of {sales_rep.get_full_name()}" in response.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_the_queue_costs_the_same_queries_for_3_or_30_leads(
    client, sales_rep, django_assert_num_queries, count
):
    for lead in LeadFactory.create_batch(count, stage=Stage.SQL, owner=sales_rep):
        ActivityFactory(lead=lead, kind=Activity.Kind.TASK, due_at=timezone.now())
    client.force_login(sales_rep)

    # session, user, roles and permissions, the page with its subqueries, the capped count
    with django_assert_num_queries(5):
        assert len(client.get(QUEUE_URL).context["leads"]) == count


def test_a_rep_creates_a_task_on_several_leads_at_once(client, sales_rep):
    first, second = LeadFactory.create_batch(2, stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    client.post(
        BULK_URL,
        {
            "action": "task",
            "lead": [first.pk, second.pk],
            "subject": "Call back",
            "due_on": "2026-03-10",
        },
    )

    tasks = Activity.objects.filter(kind=Activity.Kind.TASK).order_by("lead_id")
    assert [(task.lead_id, task.subject) for task in tasks] == [
        (first.pk, "Call back"),
        (second.pk, "Call back"),
    ]
    # 17:00 in Berlin (CET, UTC+1) on the day chosen.
    assert tasks[0].due_at == datetime(2026, 3, 10, 16, tzinfo=UTC)


def test_a_task_without_a_subject_is_refused_for_all(client, sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        BULK_URL, {"action": "task", "lead": [lead.pk], "subject": " "}, follow=True
    )

    assert "Say what the task is." in response.content.decode()
    assert not Activity.objects.exists()


def test_a_rep_moves_leads_to_nurture_with_a_reason(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    client.post(BULK_URL, {"action": "nurture", "lead": [lead.pk], "reason": "Next budget year"})

    lead.refresh_from_db()
    assert lead.stage == Stage.NURTURE
    assert StageTransition.objects.get(lead=lead).reason == "Next budget year"


def test_only_managers_reassign_from_the_queue(client, sales_rep, other_rep, sales_manager):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)
    client.post(BULK_URL, {"action": "reassign", "lead": [lead.pk], "to_user": other_rep.pk})
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep

    client.force_login(sales_manager)
    client.post(BULK_URL, {"action": "reassign", "lead": [lead.pk], "to_user": other_rep.pk})
    assert Lead.objects.get(pk=lead.pk).owner == other_rep


def test_signing_in_takes_a_rep_to_the_queue_and_a_marketer_to_the_leads(
    client, sales_rep, marketer
):
    client.force_login(sales_rep)
    assert client.get("/")["Location"] == QUEUE_URL
    client.force_login(marketer)
    assert client.get("/")["Location"] == reverse("leads:list")


def test_a_manager_starts_with_the_team_queue_and_the_load_per_rep(
    client, sales_manager, sales_rep, other_rep
):
    team = Team.objects.create(name="DACH")
    team.managers.add(sales_manager)
    RepProfile.objects.create(user=sales_rep, team=team)
    LeadFactory(last_name="Rep's", stage=Stage.SQL, owner=sales_rep, rank="B1")
    LeadFactory(last_name="Outside the team", stage=Stage.SQL, owner=other_rep, rank="A1")
    client.force_login(sales_manager)

    response = client.get(QUEUE_URL)

    assert last_names(response) == ["Rep's"]
    assert [(rep.name, rep.open_sqls) for rep in response.context["load"]] == [
        (sales_rep.get_full_name(), 1)
    ]
    assert "Team queue" in response.content.decode()

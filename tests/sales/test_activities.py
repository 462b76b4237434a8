"""Activities and tasks: log on the lead page, tasks with due dates, "My tasks", the API, and who
may see or change what."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from leads.models import Activity
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday, 14:00 in Berlin.
NOW = dt.datetime(2026, 3, 11, 14, 0, tzinfo=BERLIN)


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _task(lead, assignee, subject, due_at, done_at=None):
    return ActivityFactory(
        lead=lead,
        kind=Activity.Kind.TASK,
        subject=subject,
        due_at=due_at,
        done_at=done_at,
        assignee=assignee,
        author=assignee,
    )


def test_it_logs_a_call_from_the_lead_page_and_shows_it_on_the_timeline(client, sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:activity-log", args=[lead.pk]),
        {"kind": "call", "subject": "", "body": "Talked budget with the CFO"},
        headers={"HX-Request": "true"},
    )
    timeline = client.get(
        f"/leads/{lead.pk}/?timeline=activities",
        headers={"HX-Request": "true", "HX-Target": "timeline"},
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "leadTimelineChanged"
    assert "Logged: it is on the timeline below." in response.content.decode()
    activity = Activity.objects.get(lead=lead)
    assert (activity.kind, activity.subject, activity.body) == (
        "call",
        "Call",
        "Talked budget with the CFO",
    )
    assert activity.author == sales_rep
    content = timeline.content.decode()
    assert "Talked budget with the CFO" in content
    assert ">Call</span> Call" in content


def test_an_empty_log_is_refused_naming_the_field(client, sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:activity-log", args=[lead.pk]),
        {"kind": "note", "subject": " ", "body": ""},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert "What happened: Write what happened." in response.content.decode()
    assert not Activity.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_creates_a_task_for_the_rep_and_ticks_it_off(client, sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep, first_name="Ada", last_name="King")
    client.force_login(sales_rep)

    created = client.post(
        reverse("sales:task-create", args=[lead.pk]),
        {"subject": "Send proposal", "due_at": "2026-03-12T10:00", "assignee": ""},
    )
    task = Activity.objects.get(lead=lead)
    done = client.post(reverse("sales:task-done", args=[task.pk]), {"done": "1"})

    assert created.status_code == 302
    assert (task.kind, task.subject, task.assignee) == ("task", "Send proposal", sales_rep)
    assert task.due_at == dt.datetime(2026, 3, 12, 10, 0, tzinfo=BERLIN)
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.done_at == NOW


def test_a_task_needs_a_subject_and_a_due_date(client, sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:task-create", args=[lead.pk]),
        {"subject": "", "due_at": ""},
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert response.status_code == 400
    assert "Task: This field is required." in content
    assert "Due: This field is required." in content
    assert not Activity.objects.exists()


def test_a_rep_may_give_tasks_only_to_themselves(sales_rep, other_rep, sales_manager):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)

    by_rep = api_as(sales_rep).post(
        "/api/v1/activities/",
        {
            "lead": lead.pk,
            "kind": "task",
            "subject": "Call back",
            "due_at": "2026-03-12T10:00:00+01:00",
            "assignee": other_rep.pk,
        },
        format="json",
    )
    by_manager = api_as(sales_manager).post(
        "/api/v1/activities/",
        {
            "lead": lead.pk,
            "kind": "task",
            "subject": "Call back",
            "due_at": "2026-03-12T10:00:00+01:00",
            "assignee": other_rep.pk,
        },
        format="json",
    )

    assert by_rep.status_code == 400
    assert list(by_rep.json()) == ["assignee"]
    assert by_manager.status_code == 201
    assert by_manager.json()["assignee"]["username"] == "rep2"
    assert by_manager.json()["due_at"] == "2026-03-12T10:00:00+01:00"


@time_machine.travel(NOW, tick=False)
def test_my_tasks_splits_overdue_today_upcoming_and_done_today(client, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    _task(lead, sales_rep, "Yesterday's follow-up", dt.datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN))
    _task(lead, sales_rep, "Morning call missed", dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN))
    _task(lead, sales_rep, "Demo at four", dt.datetime(2026, 3, 11, 16, 0, tzinfo=BERLIN))
    _task(lead, sales_rep, "Late check", dt.datetime(2026, 3, 11, 23, 30, tzinfo=BERLIN))
    _task(lead, sales_rep, "Proposal Friday", dt.datetime(2026, 3, 13, 10, 0, tzinfo=BERLIN))
    _task(
        lead,
        sales_rep,
        "Sent the brochure",
        dt.datetime(2026, 3, 11, 12, 0, tzinfo=BERLIN),
        done_at=dt.datetime(2026, 3, 11, 8, 0, tzinfo=BERLIN),
    )
    _task(
        lead,
        sales_rep,
        "Done last week",
        dt.datetime(2026, 3, 4, 12, 0, tzinfo=BERLIN),
        done_at=dt.datetime(2026, 3, 4, 12, 0, tzinfo=BERLIN),
    )
    _task(lead, other_rep, "Someone else's", dt.datetime(2026, 3, 11, 15, 0, tzinfo=BERLIN))
    client.force_login(sales_rep)

    response = client.get(reverse("sales:my-tasks"))

    sections = {
        key: [task.subject for task in rows] for key, _l, rows in response.context["sections"]
    }
    assert sections == {
        "overdue": ["Yesterday's follow-up", "Morning call missed"],
        "today": ["Demo at four", "Late check"],
        "upcoming": ["Proposal Friday"],
        "done": ["Sent the brochure"],
    }
    assert "5 open tasks" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_api_filters_tasks_by_mine_and_due(sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    _task(lead, sales_rep, "Overdue", dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN))
    _task(lead, sales_rep, "Today", dt.datetime(2026, 3, 11, 17, 0, tzinfo=BERLIN))
    _task(lead, sales_rep, "Next week", dt.datetime(2026, 3, 18, 9, 0, tzinfo=BERLIN))
    _task(lead, other_rep, "Not mine", dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN))
    ActivityFactory(lead=lead, kind=Activity.Kind.CALL, subject="A call")
    api = api_as(sales_rep)

    def subjects(**params):
        response = api.get("/api/v1/activities/", params)
        assert response.status_code == 200
        return sorted(row["subject"] for row in response.json()["results"])

    assert subjects(mine="true", due="overdue") == ["Overdue"]
    assert subjects(mine="true", due="today") == ["Today"]
    assert subjects(mine="true", due="upcoming") == ["Next week"]
    assert subjects(due="overdue") == ["Not mine", "Overdue"]
    assert subjects(kind="call") == ["A call"]
    assert api.get("/api/v1/activities/", {"due": "soon"}).status_code == 400


@time_machine.travel(NOW, tick=False)
def test_the_api_completes_and_reopens_a_task(sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    task = _task(lead, sales_rep, "Call back", dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN))
    note = ActivityFactory(lead=lead, kind=Activity.Kind.NOTE, subject="A note")
    api = api_as(sales_rep)

    done = api.post(f"/api/v1/activities/{task.pk}/complete/")
    again = api.post(f"/api/v1/activities/{task.pk}/complete/")
    reopened = api.post(f"/api/v1/activities/{task.pk}/reopen/")
    not_a_task = api.post(f"/api/v1/activities/{note.pk}/complete/")

    assert done.status_code == 200
    assert done.json()["done_at"] == "2026-03-11T14:00:00+01:00"
    assert again.json()["done_at"] == "2026-03-11T14:00:00+01:00"
    assert reopened.json()["done_at"] is None
    assert not_a_task.status_code == 400
    assert list(not_a_task.json()) == ["kind"]


def test_a_rep_cannot_see_or_change_another_reps_activities(client, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=other_rep)
    task = _task(lead, other_rep, "Secret task", dt.datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN))
    api = api_as(sales_rep)
    client.force_login(sales_rep)

    listed = api.get("/api/v1/activities/")
    detail = api.get(f"/api/v1/activities/{task.pk}/")
    complete = api.post(f"/api/v1/activities/{task.pk}/complete/")
    create = api.post(
        "/api/v1/activities/", {"lead": lead.pk, "kind": "note", "body": "x"}, format="json"
    )
    page_log = client.post(
        reverse("sales:activity-log", args=[lead.pk]), {"kind": "note", "body": "x"}
    )
    page_task = client.post(
        reverse("sales:task-create", args=[lead.pk]),
        {"subject": "x", "due_at": "2026-03-12T10:00"},
    )
    page_done = client.post(reverse("sales:task-done", args=[task.pk]), {"done": "1"})
    my_tasks = client.get(reverse("sales:my-tasks"))

    assert listed.json()["results"] == []
    assert detail.status_code == 404
    assert complete.status_code == 404
    assert create.status_code == 400
    assert list(create.json()) == ["lead"]
    assert page_log.status_code == 404
    assert page_task.status_code == 404
    assert page_done.status_code == 404
    assert "Secret task" not in my_tasks.content.decode()
    task.refresh_from_db()
    assert task.done_at is None
    assert Activity.objects.count() == 1


@pytest.mark.parametrize("count", [2, 12])
def test_my_tasks_runs_a_constant_number_of_queries(
    client, sales_rep, django_assert_num_queries, count
):
    now = dt.datetime.now(tz=BERLIN)
    for index in range(count):
        lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
        _task(lead, sales_rep, f"Task {index}", now + dt.timedelta(hours=index - 3))
        _task(lead, sales_rep, f"Done {index}", now, done_at=now)
    client.force_login(sales_rep)

    # session, user, roles and permissions, open tasks, done today
    with django_assert_num_queries(5):
        response = client.get(reverse("sales:my-tasks"))

    assert response.context["tasks"].open_count == count


@pytest.mark.parametrize("count", [2, 12])
def test_the_activity_list_api_runs_a_constant_number_of_queries(
    sales_rep, django_assert_num_queries, count
):
    for index in range(count):
        lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
        _task(lead, sales_rep, f"Task {index}", dt.datetime.now(tz=BERLIN))
    api = api_as(sales_rep)

    # roles and permissions, then one query for the page
    with django_assert_num_queries(2):
        response = api.get("/api/v1/activities/", {"mine": "true"})

    assert len(response.json()["results"]) == count


def test_the_lead_page_runs_as_many_queries_for_eight_tasks_as_for_one(client, sales_rep):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    eight = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    _task(one, sales_rep, "Only task", dt.datetime.now(tz=BERLIN))
    for index in range(8):
        _task(eight, sales_rep, f"Task {index}", dt.datetime.now(tz=BERLIN))
    client.force_login(sales_rep)
    client.get(f"/leads/{one.pk}/")  # warm the caches (content types, roles)

    counts = []
    for lead in (one, eight):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/leads/{lead.pk}/")
        counts.append(len(queries))
        last = response.content.decode()

    assert counts[0] == counts[1]
    assert last.count('class="task-item"') == 8

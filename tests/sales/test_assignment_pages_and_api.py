"""Reassigning one lead (lead page) and many (API), the teams and rules pages and API, rep
profiles, and that a rep can neither open nor change another rep's lead."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from leads.lifecycle import Stage
from leads.models import Lead, LeadChange
from sales import assignment
from sales.models import Assignment, AssignmentRule, Notification, RepProfile, Team
from tests.factories import LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(sales_manager, sales_rep, other_rep):
    team = Team.objects.create(name="Inside sales")
    team.managers.add(sales_manager)
    RepProfile.objects.create(user=sales_rep, team=team)
    RepProfile.objects.create(user=other_rep, team=team)
    AssignmentRule.objects.create(name="Everyone", team=team)
    return team


def test_a_manager_reassigns_many_leads_through_the_api(
    client, sales_manager, sales_rep, other_rep
):
    leads = [LeadFactory(stage=Stage.MQL, owner=sales_rep) for _ in range(3)]
    client.force_login(sales_manager)

    response = client.post(
        reverse("api-leads-reassign"),
        {"lead_ids": [lead.pk for lead in leads], "to_user": other_rep.pk},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["reassigned"] == 3
    assert set(Lead.objects.values_list("owner", flat=True)) == {other_rep.pk}
    changes = LeadChange.objects.filter(field="owner").values_list(
        "old_value", "new_value", "by_user"
    )
    assert (
        list(changes)
        == [(sales_rep.get_full_name(), other_rep.get_full_name(), sales_manager.pk)] * 3
    )
    assert Notification.objects.filter(recipient=other_rep, kind="assigned").count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lead_ids": [], "to_user": "REP"}, "lead_ids"),
        ({"lead_ids": [999999], "to_user": "REP"}, "lead_ids"),
        ({"lead_ids": ["LEAD"], "to_user": 999999}, "to_user"),
        ({"lead_ids": ["LEAD"], "to_user": "MARKETER"}, "to_user"),
    ],
)
def test_reassigning_names_the_field_at_fault(
    client, sales_manager, sales_rep, marketer, body, field
):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    swap = {"REP": sales_rep.pk, "MARKETER": marketer.pk, "LEAD": lead.pk}
    body = {
        "lead_ids": [swap.get(value, value) for value in body["lead_ids"]],
        "to_user": swap.get(body["to_user"], body["to_user"]),
    }
    client.force_login(sales_manager)

    response = client.post(reverse("api-leads-reassign"), body, content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_an_open_deal_follows_its_reassigned_lead(sales_manager, sales_rep, other_rep):
    open_deal = OpportunityFactory(lead=LeadFactory(stage=Stage.OPPORTUNITY, owner=sales_rep))
    open_deal.owner = sales_rep
    open_deal.save()
    won = OpportunityFactory(lead=open_deal.lead, status="won", owner=sales_rep)

    assignment.leads_reassign(
        lead_ids=[open_deal.lead_id], to_user=other_rep, by_user=sales_manager
    )

    open_deal.refresh_from_db()
    won.refresh_from_db()
    assert (open_deal.owner, won.owner) == (other_rep, sales_rep)
    assert Assignment.objects.get(lead=open_deal.lead).sla_due_at is None  # not an MQL


def test_a_rep_may_not_reassign(client, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    api = client.post(
        reverse("api-leads-reassign"),
        {"lead_ids": [lead.pk], "to_user": other_rep.pk},
        content_type="application/json",
    )
    page = client.post(reverse("sales:reassign", args=[lead.pk]), {"to_user": other_rep.pk})

    assert (api.status_code, page.status_code) == (403, 403)
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep


def test_a_manager_reassigns_one_lead_on_its_page(client, sales_manager, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_manager)

    page = client.get(reverse("leads:detail", args=[lead.pk]))
    assert b'id="assignment"' in page.content
    response = client.post(reverse("sales:reassign", args=[lead.pk]), {"to_user": other_rep.pk})

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == other_rep
    assert Assignment.objects.get(lead=lead).by_user == sales_manager


def test_a_rep_can_neither_open_nor_change_another_reps_lead(client, team, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    made = assignment.lead_assign(lead_id=lead.pk)
    owner, outsider = (sales_rep, other_rep) if made.owner == sales_rep else (other_rep, sales_rep)
    client.force_login(outsider)

    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("api-lead-detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("api-lead-assignments", args=[lead.pk])).status_code == 404
    patched = client.patch(
        reverse("api-lead-detail", args=[lead.pk]),
        {"city": "Bonn"},
        content_type="application/json",
    )
    assert patched.status_code == 404
    posted = client.post(reverse("sales:qualification", args=[lead.pk]), {"need": "x"})
    assert posted.status_code == 404
    assert Lead.objects.get(pk=lead.pk).owner == owner

    client.force_login(owner)
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200


def test_the_lead_page_shows_the_rule_and_the_sla(client, team, sales_manager):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    assignment.lead_assign(lead_id=lead.pk)
    client.force_login(sales_manager)

    html = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert "by rule “Everyone”" in html
    assert "Accept or reject by" in html
    assert "Assignment: Everyone" in html  # the timeline's owner change


def test_a_manager_sets_up_a_team_and_a_rule_in_the_browser(client, sales_manager, sales_rep):
    client.force_login(sales_manager)

    response = client.post(
        reverse("sales:team-create"),
        {
            "name": "DACH",
            "managers": [sales_manager.pk],
            "workdays": ["0", "1", "2", "3"],
            "day_starts": "08:00",
            "day_ends": "16:00",
            "time_zone": "Europe/Vienna",
            "sla_hours": "16",
        },
    )
    assert response.status_code == 302, response.content
    team = Team.objects.get(name="DACH")
    assert (team.workdays, team.sla_hours, list(team.managers.all())) == (
        [0, 1, 2, 3],
        16,
        [sales_manager],
    )
    response = client.post(
        reverse("sales:rule-create"),
        {
            "name": "DACH",
            "team": team.pk,
            "position": "5",
            "countries": ["DE", "AT"],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    assert AssignmentRule.objects.get().countries == ["AT", "DE"]
    response = client.post(
        reverse("sales:rep-edit", args=[sales_rep.pk]), {"team": team.pk, "capacity": "7"}
    )
    assert response.status_code == 302, response.content
    assert RepProfile.objects.filter(user=sales_rep).values_list("team", "capacity").get() == (
        team.pk,
        7,
    )
    page = client.get(reverse("sales:assignment"))
    assert page.status_code == 200
    assert sales_rep.get_full_name() in page.content.decode()


def test_the_team_form_refuses_an_unknown_time_zone_and_a_backwards_day(client, sales_manager):
    client.force_login(sales_manager)

    response = client.post(
        reverse("sales:team-create"),
        {
            "name": "X",
            "workdays": ["0"],
            "day_starts": "17:00",
            "day_ends": "09:00",
            "time_zone": "Mars/Olympus",
            "sla_hours": "24",
        },
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"day_ends", "time_zone"}
    assert not Team.objects.exists()


def test_a_rep_may_see_the_assignment_page_but_not_change_teams(client, team, sales_rep):
    client.force_login(sales_rep)

    assert client.get(reverse("sales:assignment")).status_code == 200
    assert client.get(reverse("sales:team-create")).status_code == 403
    assert client.post(reverse("sales:rule-create"), {"name": "x"}).status_code == 403


def test_a_rep_marks_themselves_away_but_cannot_change_their_capacity(client, team, sales_rep):
    client.force_login(sales_rep)

    away = client.patch(
        reverse("api-my-profile"),
        {"away": True, "notify_by_email": True},
        content_type="application/json",
    )
    capacity = client.patch(
        reverse("api-my-profile"), {"capacity": 50}, content_type="application/json"
    )

    assert away.status_code == 200
    assert (away.json()["away"], away.json()["notify_by_email"]) == (True, True)
    assert capacity.status_code == 403
    assert RepProfile.objects.get(user=sales_rep).capacity is None
    for when in ["2020-01-01T10:00:00Z", "2999-01-01T10:00:00Z"]:
        past = client.patch(
            reverse("api-my-profile"), {"away_until": when}, content_type="application/json"
        )
        assert past.status_code == 400
        assert "away_until" in past.json()


def test_teams_and_rules_through_the_api(client, admin_user, sales_manager):
    client.force_login(admin_user)

    team = client.post(
        reverse("api-teams"),
        {
            "name": "Benelux",
            "managers": [sales_manager.pk],
            "sla_hours": 8,
            "workdays": [0, 2, 4],
            "day_starts": "08:30",
        },
        content_type="application/json",
    )
    assert team.status_code == 201, team.content
    team_id = team.json()["id"]
    assert team.json()["workdays"] == [0, 2, 4]
    assert team.json()["time_zone"] == "Europe/Berlin"
    assert (team.json()["day_starts"], team.json()["day_ends"]) == ("08:30", "17:00")
    bad_time = client.put(
        reverse("api-team", args=[team_id]),
        {"name": "Benelux", "day_starts": "8.30"},
        content_type="application/json",
    )
    assert bad_time.status_code == 400
    assert "day_starts" in bad_time.json()
    rule = client.post(
        reverse("api-assignment-rules"),
        {"name": "Benelux", "team": team_id, "countries": ["nl", "BE"], "industries": ["software"]},
        content_type="application/json",
    )
    assert rule.status_code == 201, rule.content
    assert (rule.json()["countries"], rule.json()["industries"]) == (["BE", "NL"], ["software"])
    bad = client.post(
        reverse("api-assignment-rules"),
        {"name": "Nowhere", "team": team_id, "countries": ["XX"]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "countries" in bad.json()
    assert client.delete(reverse("api-team", args=[team_id])).status_code == 204
    assert not AssignmentRule.objects.exists()


def test_team_load_counts_open_work_per_rep(client, team, sales_manager, sales_rep, other_rep):
    # Three assignments of one lead (back and forth): still one open MQL, overdue once.
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        mql = LeadFactory(stage=Stage.MQL, owner=None)
        for to in (sales_rep, other_rep, sales_rep):
            assignment.leads_reassign(lead_ids=[mql.pk], to_user=to, by_user=sales_manager)
    LeadFactory.create_batch(2, stage=Stage.SQL, owner=sales_rep)
    LeadFactory(stage=Stage.CUSTOMER, owner=other_rep)
    RepProfile.objects.filter(user=other_rep).update(capacity=0)
    client.force_login(sales_manager)

    rows = {row["user_id"]: row for row in client.get(reverse("api-team-load")).json()}

    assert (rows[sales_rep.pk]["open_mqls"], rows[sales_rep.pk]["open_sqls"]) == (1, 2)
    assert rows[sales_rep.pk]["overdue"] == 1
    assert (rows[other_rep.pk]["open_mqls"], rows[other_rep.pk]["full"]) == (0, True)


def test_pages_run_a_fixed_number_of_queries(
    client, team, sales_manager, django_assert_num_queries
):
    for index in range(3):
        other = Team.objects.create(name=f"Team {index}")
        AssignmentRule.objects.create(name=f"Rule {index}", team=other)
        for rep in range(2):
            user = UserFactory(username=f"t{index}r{rep}", role="sales_rep")
            RepProfile.objects.create(user=user, team=other)
        other.managers.add(sales_manager)
    client.force_login(sales_manager)
    client.get(reverse("sales:assignment"))

    # session, user, roles and permissions; team load: profiles, counts; teams,
    # managers, members; rules; reps without a team
    with django_assert_num_queries(10):
        assert client.get(reverse("sales:assignment")).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(reverse("api-notifications")).status_code == 200


def test_the_notifications_api_marks_read(client, team, sales_rep, sales_manager):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    assignment.leads_reassign(lead_ids=[lead.pk], to_user=sales_rep, by_user=sales_manager)
    client.force_login(sales_rep)

    before = client.get(reverse("api-notifications")).json()
    marked = client.post(reverse("api-notifications-read"), {}, content_type="application/json")

    assert before["unread"] == 1
    assert before["results"][0]["kind"] == "assigned"
    assert before["results"][0]["assignment"]["by_user"]["id"] == sales_manager.pk
    assert marked.json() == {"marked": 1}
    assert client.get(reverse("api-notifications")).json()["unread"] == 0


def test_a_lead_keeps_its_assignment_history(client, team, sales_manager, sales_rep, other_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    first = assignment.lead_assign(lead_id=lead.pk)
    to = other_rep if first.owner == sales_rep else sales_rep
    assignment.leads_reassign(lead_ids=[lead.pk], to_user=to, by_user=sales_manager)
    client.force_login(sales_manager)

    rows = client.get(reverse("api-lead-assignments", args=[lead.pk])).json()

    assert [(row["owner"]["id"], row["rule_name"]) for row in rows] == [
        (to.pk, ""),
        (first.owner.pk, "Everyone"),
    ]
    assert rows[1]["sla_closed_at"] is not None
    assert datetime.fromisoformat(rows[0]["at"]) >= datetime.fromisoformat(rows[1]["at"])


def test_a_rep_sets_their_absence_and_e_mail_wish_in_the_browser(client, team, sales_rep):
    client.force_login(sales_rep)

    form = client.get(reverse("sales:rep-me"))
    response = client.post(
        reverse("sales:rep-me"),
        {"away": "on", "away_until": "", "notify_by_email": "on", "capacity": "99"},
    )

    assert form.status_code == 200
    assert "capacity" not in form.context["form"].fields
    assert response.status_code == 302
    profile = RepProfile.objects.get(user=sales_rep)
    assert (profile.away, profile.notify_by_email, profile.capacity) == (True, True, None)
    assert (
        client.get(reverse("sales:rep-edit", args=[UserFactory(username="x").pk])).status_code
        == 403
    )

"""Qualifying an MQL: save progress, accept as SQL only with the configured minimum, reject
with a managed reason; through the lead page and the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from leads.models import Lead, StageTransition
from sales.models import Qualification, QualificationPolicy, Rejection, RejectionReason
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

THREE_BANT = {
    "budget": "50k EUR approved for Q3",
    "budget_confirmed": True,
    "authority": "Head of IT signs",
    "authority_confirmed": True,
    "need": "Replace spreadsheets",
    "need_confirmed": True,
    "timing": "",
    "timing_confirmed": False,
}


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _form(**fields) -> dict:
    data = {}
    for name, value in fields.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return data


def test_it_accepts_an_mql_with_three_of_four_bant_confirmed_on_the_page(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None, first_name="Grace", last_name="Hopper")
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:qualification", args=[lead.pk]), {**_form(**THREE_BANT), "action": "accept"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.stage == "sql"
    assert lead.owner == sales_rep
    transition = lead.transitions.get(to_stage="sql")
    assert transition.by_user == sales_rep
    assert transition.reason == "Accepted: BANT 3/4, MEDDIC 0/6 confirmed."
    qualification = Qualification.objects.get(lead=lead)
    assert qualification.budget == "50k EUR approved for Q3"
    assert qualification.updated_by == sales_rep
    page = client.get(f"/leads/{lead.pk}/")
    assert "“Grace Hopper” is accepted as sales-qualified (SQL)." in page.content.decode()


def test_it_refuses_acceptance_without_the_bant_minimum_and_changes_nothing(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)
    data = {**THREE_BANT, "authority_confirmed": False}

    response = client.post(
        reverse("sales:qualification", args=[lead.pk]), {**_form(**data), "action": "accept"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "“Authority” is not confirmed. Accepting needs 3 of 4 BANT criteria confirmed; 2 are."
        in page
    )
    assert (
        "“Timing” is not confirmed. Accepting needs 3 of 4 BANT criteria confirmed; 2 are." in page
    )
    # What the rep typed is still in the form.
    assert "50k EUR approved for Q3" in page
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert not Qualification.objects.filter(lead=lead).exists()
    assert list(lead.transitions.values_list("to_stage", flat=True)) == []


def test_it_saves_progress_without_changing_the_stage(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:qualification", args=[lead.pk]),
        {"budget": "Unclear", "need": "Faster quotes", "need_confirmed": "on", "action": "save"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Qualification saved." in response.content.decode()
    assert "BANT 1/4" in response.content.decode()
    qualification = Qualification.objects.get(lead=lead)
    assert (qualification.budget, qualification.budget_confirmed) == ("Unclear", False)
    assert (qualification.need, qualification.need_confirmed) == ("Faster quotes", True)
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_it_needs_a_value_for_a_confirmed_criterion(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:qualification", args=[lead.pk]),
        {"budget": "  ", "budget_confirmed": "on", "action": "save"},
    )

    assert response.status_code == 400
    assert "Write down what was confirmed for “Budget”." in response.content.decode()
    assert not Qualification.objects.filter(lead=lead).exists()


def test_it_follows_the_configured_minimum_including_meddic(client, sales_rep, admin_user):
    client.force_login(admin_user)
    client.post(reverse("sales:settings"), {"bant_minimum": "2", "meddic_minimum": "1"})
    assert QualificationPolicy.objects.get(pk=1).bant_minimum == 2
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    two_bant = {**THREE_BANT, "need_confirmed": False}

    refused = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/accept/", two_bant, format="json"
    )
    accepted = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/accept/",
        {**two_bant, "champion": "Our user in purchasing", "champion_confirmed": True},
        format="json",
    )

    assert refused.status_code == 400
    assert set(refused.json()) == {
        "metrics_confirmed",
        "economic_buyer_confirmed",
        "decision_criteria_confirmed",
        "decision_process_confirmed",
        "identified_pain_confirmed",
        "champion_confirmed",
    }
    assert refused.json()["champion_confirmed"] == [
        "“Champion” is not confirmed. Accepting needs 1 of 6 MEDDIC criteria confirmed; 0 are."
    ]
    assert accepted.status_code == 200
    assert accepted.json()["to_stage"] == "sql"


def test_the_api_refuses_acceptance_naming_the_missing_bant_fields(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    api = api_as(sales_rep)
    api.put(
        f"/api/v1/leads/{lead.pk}/qualification/",
        {"budget": "Approved", "budget_confirmed": True},
        format="json",
    )

    response = api.post(f"/api/v1/leads/{lead.pk}/qualification/accept/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {
        "authority_confirmed",
        "need_confirmed",
        "timing_confirmed",
    }
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert StageTransition.objects.filter(lead=lead).count() == 0


def test_the_api_reads_and_writes_a_qualification(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    api = api_as(sales_rep)

    empty = api.get(f"/api/v1/leads/{lead.pk}/qualification/")
    saved = api.put(f"/api/v1/leads/{lead.pk}/qualification/", THREE_BANT, format="json")

    assert empty.status_code == 200
    assert empty.json()["budget"] == ""
    assert empty.json()["ready"] is False
    assert empty.json()["updated_at"] is None
    assert saved.status_code == 200
    body = saved.json()
    assert body["bant_confirmed_count"] == 3
    assert body["ready"] is True
    assert body["missing"] == {}
    assert body["policy"] == {"bant_minimum": 3, "meddic_minimum": 0}
    assert body["updated_by"]["username"] == "rep"


def test_it_rejects_to_nurture_with_a_reason(client, sales_rep):
    campaign = CampaignFactory(name="Webinar May")
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep, first_campaign=campaign)
    no_budget = RejectionReason.objects.get(code="no-budget")
    client.force_login(sales_rep)

    response = client.post(
        reverse("sales:reject", args=[lead.pk]),
        {"reason": no_budget.pk, "to_stage": "nurture", "note": "Try again next year"},
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "nurture"
    transition = lead.transitions.get(to_stage="nurture")
    assert transition.reason == "No budget: Try again next year"
    rejection = Rejection.objects.get(lead=lead)
    assert rejection.reason == no_budget
    assert rejection.note == "Try again next year"
    assert rejection.campaign == campaign
    assert rejection.by_user == sales_rep
    assert rejection.transition == transition


def test_rejection_needs_a_reason(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    response = client.post(reverse("sales:reject", args=[lead.pk]), {"to_stage": "nurture"})
    api = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/reject/", {"to_stage": "nurture"}, format="json"
    )

    assert response.status_code == 400
    assert "Reason: This field is required." in response.content.decode()
    assert api.status_code == 400
    assert list(api.json()) == ["reason"]
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert not Rejection.objects.exists()


def test_rejecting_for_other_needs_a_note(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    other = RejectionReason.objects.get(code="other")
    client.force_login(sales_rep)

    page = client.post(
        reverse("sales:reject", args=[lead.pk]), {"reason": other.pk, "to_stage": "disqualified"}
    )
    api = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/reject/",
        {"reason": other.pk, "to_stage": "disqualified", "note": " "},
        format="json",
    )
    done = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/reject/",
        {"reason": other.pk, "to_stage": "disqualified", "note": "Works for a reseller"},
        format="json",
    )

    assert page.status_code == 400
    assert "Explain the reason “Other” in a note." in page.content.decode()
    assert api.status_code == 400
    assert api.json() == {"note": ["Explain the reason “Other” in a note."]}
    assert done.status_code == 201
    assert done.json()["to_stage"] == "disqualified"
    assert done.json()["reason_name"] == "Other"
    lead.refresh_from_db()
    assert lead.stage == "disqualified"


def test_only_an_mql_can_be_accepted_or_rejected(sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    reason = RejectionReason.objects.get(code="no-need")

    accept = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/accept/", {}, format="json"
    )
    reject = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/reject/", {"reason": reason.pk}, format="json"
    )

    assert accept.status_code == 409
    assert reject.status_code == 409
    assert "this one is “Sales-qualified (SQL)”" in reject.json()["detail"]


def test_an_inactive_reason_cannot_be_chosen(sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    reason = RejectionReason.objects.get(code="duplicate")
    RejectionReason.objects.filter(pk=reason.pk).update(active=False)

    response = api_as(sales_rep).post(
        f"/api/v1/leads/{lead.pk}/qualification/reject/", {"reason": reason.pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/leads/{pk}/qualification/", None),
        ("put", "/api/v1/leads/{pk}/qualification/", {"budget": "x"}),
        ("post", "/api/v1/leads/{pk}/qualification/accept/", {}),
        ("post", "/api/v1/leads/{pk}/qualification/reject/", {"reason": 1}),
    ],
)
def test_a_rep_cannot_reach_another_reps_lead_through_the_api(
    sales_rep, other_rep, method, path, body
):
    lead = LeadFactory(stage=Stage.MQL, owner=other_rep)

    response = getattr(api_as(sales_rep), method)(path.format(pk=lead.pk), body, format="json")

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.stage == "mql"
    assert not Qualification.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("sales:qualification", {"budget": "x", "action": "save"}),
        ("sales:qualification", {**_form(**THREE_BANT), "action": "accept"}),
        ("sales:reject", {"reason": "1", "to_stage": "nurture"}),
    ],
)
def test_a_rep_cannot_change_another_reps_lead_through_the_page(
    client, sales_rep, other_rep, url_name, data
):
    lead = LeadFactory(stage=Stage.MQL, owner=other_rep)
    client.force_login(sales_rep)

    response = client.post(reverse(url_name, args=[lead.pk]), data)

    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).stage == "mql"
    assert not Qualification.objects.exists()


def test_a_marketer_sees_the_qualification_but_cannot_change_it(client, marketer, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    Qualification.objects.create(lead=lead, budget="20k", budget_confirmed=True)
    client.force_login(marketer)

    page = client.get(f"/leads/{lead.pk}/")
    post = client.post(reverse("sales:qualification", args=[lead.pk]), {"budget": "x"})

    content = page.content.decode()
    assert "BANT 1/4" in content
    assert "20k" in content
    assert "Accept as SQL" not in content
    assert post.status_code == 403


def test_the_lead_page_shows_the_form_to_a_rep_with_the_starter_reasons(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=None)
    client.force_login(sales_rep)

    content = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "Accept as SQL" in content
    assert "Accepting needs 3 of 4 BANT criteria confirmed." in content
    for reason in [
        "No budget",
        "No authority",
        "No need",
        "Bad timing",
        "Competitor chosen",
        "Not reachable",
        "Student / job seeker",
        "Duplicate",
        "Other",
    ]:
        assert f">{reason}</option>" in content


def test_reasons_show_in_german_for_german_readers(client, sales_rep):
    lead = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client.force_login(sales_rep)

    content = client.get(f"/leads/{lead.pk}/", headers={"accept-language": "de"}).content.decode()

    assert ">Kein Budget</option>" in content
    assert ">Sonstiges</option>" in content

"""Marketing's table of rejection reasons per campaign, and the qualification rules page."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from sales import services
from sales.models import QualificationPolicy, Rejection, RejectionReason
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _reject(lead, user, code, note=""):
    return services.qualification_reject(
        lead_id=lead.pk,
        by_user=user,
        reason=RejectionReason.objects.get(code=code),
        to_stage="nurture",
        note=note,
    )


def test_marketers_see_rejections_per_campaign_and_reason(client, marketer, sales_rep):
    webinar = CampaignFactory(name="Webinar May")
    ebook = CampaignFactory(name="E-book Pricing")
    for campaign, code in [
        (webinar, "no-budget"),
        (webinar, "no-budget"),
        (webinar, "bad-timing"),
        (ebook, "student-job-seeker"),
        (None, "no-budget"),
    ]:
        _reject(
            LeadFactory(stage=Stage.MQL, owner=sales_rep, first_campaign=campaign), sales_rep, code
        )
    client.force_login(marketer)

    response = client.get(reverse("sales:rejections"))
    api = api_as(marketer).get("/api/v1/rejections/by-campaign/")

    table = response.context["table"]
    assert [reason.name for reason in table.reasons] == [
        "No budget",
        "Bad timing",
        "Student / job seeker",
    ]
    assert [(row.campaign and row.campaign.name, row.counts, row.total) for row in table.rows] == [
        ("Webinar May", [2, 1, 0], 3),
        ("E-book Pricing", [0, 0, 1], 1),
        (None, [1, 0, 0], 1),
    ]
    assert table.totals == [3, 1, 1]
    content = response.content.decode()
    assert "Webinar May" in content
    assert "No campaign" in content
    assert api.status_code == 200
    assert sorted(
        (row["campaign_name"] or "", row["reason_name"], row["count"]) for row in api.json()
    ) == [
        ("", "No budget", 1),
        ("E-book Pricing", "Student / job seeker", 1),
        ("Webinar May", "Bad timing", 1),
        ("Webinar May", "No budget", 2),
    ]


def test_the_rejection_table_filters_by_period(client, marketer, sales_rep):
    old = _reject(LeadFactory(stage=Stage.MQL, owner=sales_rep), sales_rep, "no-need")
    Rejection.objects.filter(pk=old.pk).update(at=dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC))
    _reject(LeadFactory(stage=Stage.MQL, owner=sales_rep), sales_rep, "duplicate")
    client.force_login(marketer)

    response = client.get(
        reverse("sales:rejections"), {"since": "2025-01-01", "until": "2025-01-31"}
    )
    bad = client.get(reverse("sales:rejections"), {"since": "last year"})

    assert [reason.name for reason in response.context["table"].reasons] == ["No need"]
    assert bad.status_code == 400
    assert "From: Enter a valid date." in bad.content.decode()


def test_the_rejection_table_counts_in_a_constant_number_of_queries(
    client, marketer, sales_rep, django_assert_num_queries
):
    for code in ["no-budget", "no-need", "bad-timing", "duplicate"]:
        for _ in range(3):
            _reject(
                LeadFactory(stage=Stage.MQL, owner=sales_rep, first_campaign=CampaignFactory()),
                sales_rep,
                code,
            )
    client.force_login(marketer)

    # session, user, roles and permissions, counts, reasons, campaigns
    with django_assert_num_queries(6):
        response = client.get(reverse("sales:rejections"))

    assert response.context["table"].total == 12


def test_sales_reps_cannot_change_the_rules(client, sales_rep):
    client.force_login(sales_rep)

    page = client.get(reverse("sales:settings"))
    post = client.post(reverse("sales:settings"), {"bant_minimum": "0", "meddic_minimum": "0"})
    api = api_as(sales_rep).put(
        "/api/v1/qualification-policy/", {"bant_minimum": 0, "meddic_minimum": 0}, format="json"
    )

    assert page.status_code == 200
    assert post.status_code == 403
    assert api.status_code == 403
    assert QualificationPolicy.objects.get(pk=1).bant_minimum == 3


def test_managers_change_the_minimum_and_it_names_bad_values(client, sales_manager):
    client.force_login(sales_manager)

    bad = client.post(reverse("sales:settings"), {"bant_minimum": "5", "meddic_minimum": "0"})
    good = client.post(reverse("sales:settings"), {"bant_minimum": "4", "meddic_minimum": "2"})
    api_bad = api_as(sales_manager).put(
        "/api/v1/qualification-policy/", {"bant_minimum": 1, "meddic_minimum": 7}, format="json"
    )

    assert bad.status_code == 400
    assert "BANT criteria to confirm: Ensure this value is less than or equal to 4." in (
        bad.content.decode()
    )
    assert good.status_code == 302
    policy = QualificationPolicy.objects.get(pk=1)
    assert (policy.bant_minimum, policy.meddic_minimum, policy.updated_by) == (4, 2, sales_manager)
    assert api_bad.status_code == 400
    assert list(api_bad.json()) == ["meddic_minimum"]


def test_admins_manage_reasons_in_the_browser(client, admin_user):
    client.force_login(admin_user)

    created = client.post(
        reverse("sales:reason-create"),
        {"name": "Wrong country", "name_de": "Falsches Land", "active": "on", "position": "95"},
    )
    reason = RejectionReason.objects.get(name="Wrong country")
    edited = client.post(
        reverse("sales:reason-edit", args=[reason.pk]),
        {"name": "Wrong country", "name_de": "Falsches Land", "position": "95"},
    )

    assert created.status_code == 302
    assert reason.code == "wrong-country"
    assert edited.status_code == 302
    reason.refresh_from_db()
    assert reason.active is False


def test_the_reason_api_is_for_admins_and_protects_used_reasons(admin_user, sales_rep):
    rep_api, admin_api = api_as(sales_rep), api_as(admin_user)
    used = RejectionReason.objects.get(code="no-budget")
    _reject(LeadFactory(stage=Stage.MQL, owner=sales_rep), sales_rep, "no-budget")

    listed = rep_api.get("/api/v1/rejection-reasons/")
    rep_create = rep_api.post("/api/v1/rejection-reasons/", {"name": "X"}, format="json")
    created = admin_api.post(
        "/api/v1/rejection-reasons/", {"name": "Too small", "requires_note": True}, format="json"
    )
    duplicate = admin_api.post("/api/v1/rejection-reasons/", {"name": "Too small"}, format="json")
    delete_used = admin_api.delete(f"/api/v1/rejection-reasons/{used.pk}/")
    deactivate = admin_api.patch(
        f"/api/v1/rejection-reasons/{used.pk}/", {"active": False}, format="json"
    )
    delete_new = admin_api.delete(f"/api/v1/rejection-reasons/{created.json()['id']}/")

    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()][:3] == ["no-budget", "no-authority", "no-need"]
    assert listed.json()[-1] == {
        "id": RejectionReason.objects.get(code="other").pk,
        "code": "other",
        "name": "Other",
        "name_de": "Sonstiges",
        "label": "Other",
        "requires_note": True,
        "active": True,
        "position": 90,
    }
    assert rep_create.status_code == 403
    assert created.status_code == 201
    assert created.json()["code"] == "too-small"
    assert duplicate.status_code == 400
    assert list(duplicate.json()) == ["code"]
    assert delete_used.status_code == 409
    assert delete_used.json()["count"] == 1
    assert deactivate.json()["active"] is False
    assert delete_new.status_code == 204

import hashlib
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leadcrm.roles import Role
from leads import api as leads_api
from leads.lifecycle import Stage
from leads.models import AuditEntry, Company, Lead, LeadChange, LeadScore, StageTransition
from tests.concurrency import run_in_threads
from tests.factories import CampaignFactory, CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api-lead-list")


def detail_url(lead: Lead) -> str:
    return reverse("api-lead-detail", args=[lead.pk])


def transition_url(lead: Lead) -> str:
    return reverse("api-lead-transition", args=[lead.pk])


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_refuses_anonymous_clients():
    lead = LeadFactory()
    client = APIClient()

    assert client.get(LIST_URL).status_code == 401
    assert client.post(LIST_URL, {"email": "x@example.com"}).status_code == 401
    assert client.post(transition_url(lead), {"to_stage": "mql"}).status_code == 401


def test_it_authenticates_with_a_token(marketer):
    token = Token.objects.create(user=marketer)
    LeadFactory(email="token@example.com")
    client = APIClient()

    wrong = client.get(LIST_URL, HTTP_AUTHORIZATION="Token not-a-token")
    right = client.get(LIST_URL, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert wrong.status_code == 401
    assert right.status_code == 200
    assert [lead["email"] for lead in right.json()["results"]] == ["token@example.com"]


def test_a_token_request_reads_the_same_few_queries_and_sees_what_its_user_sees(
    sales_rep, other_rep, django_assert_num_queries
):
    own = LeadFactory(owner=sales_rep, stage=Stage.SQL)
    others = LeadFactory(owner=other_rep, stage=Stage.SQL)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=sales_rep).key}")

    # the token with its user, the user's roles and permissions, the page with its capped count
    with django_assert_num_queries(3):
        listed = client.get(LIST_URL).json()["results"]

    assert [lead["id"] for lead in listed] == [own.pk]
    assert client.get(detail_url(others)).status_code == 404
    assert client.post(LIST_URL, {"email": "rep-made@example.com"}).status_code == 403


def test_a_token_grants_what_its_user_was_given_and_nothing_to_a_user_without_a_role(
    no_role_user,
):
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=no_role_user).key}")
    assert client.get(LIST_URL).status_code == 403

    no_role_user.user_permissions.add(Permission.objects.get(codename="view_lead"))
    LeadFactory(stage=Stage.MQL, owner=None)

    listed = client.get(LIST_URL)
    # May list, but sees no lead: seeing leads comes with a role (leads.selectors).
    assert (listed.status_code, listed.json()["results"]) == (200, [])
    assert client.post(LIST_URL, {"email": "x@example.com"}).status_code == 403


def test_a_token_of_a_deactivated_user_is_refused_with_drfs_message(marketer):
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")
    marketer.is_active = False
    marketer.save()

    refused = client.get(LIST_URL)
    unknown = APIClient(HTTP_AUTHORIZATION="Token 0123456789abcdef").get(LIST_URL)

    assert refused.status_code == 401
    assert refused.json() == {"detail": "User inactive or deleted."}
    assert unknown.status_code == 401
    assert unknown.json() == {"detail": "Invalid token."}


def test_it_authenticates_with_the_browser_session_and_demands_csrf(marketer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(marketer)

    assert client.get(LIST_URL).status_code == 200
    assert client.post(LIST_URL, {"email": "csrf@example.com"}).status_code == 403
    assert not Lead.objects.filter(email="csrf@example.com").exists()


def test_it_forbids_users_without_a_role(no_role_user):
    assert api_as(no_role_user).get(LIST_URL).status_code == 403


def test_it_creates_a_lead_with_company_and_history(marketer):
    campaign = CampaignFactory()

    response = api_as(marketer).post(
        LIST_URL,
        {
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "country": "gb",
            "company_name": "Analytical Engines Ltd",
            "source_channel": "webinar",
            "first_campaign": campaign.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "Ada@Example.com"
    assert body["country"] == "GB"
    assert body["company"]["name"] == "Analytical Engines Ltd"
    assert body["stage"] == Stage.UNQUALIFIED
    assert body["allowed_next_stages"] == ["mql", "nurture", "disqualified"]
    history = StageTransition.objects.get(lead_id=body["id"])
    assert (history.from_stage, history.to_stage, history.by_user) == ("", "unqualified", marketer)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({}, "email"),
        ({"email": "a@example.com", "stage": "won"}, "stage"),
        ({"email": "a@example.com", "country": "Germany"}, "country"),
        ({"email": "a@example.com", "seniority": "emperor"}, "seniority"),
        ({"email": "a@example.com", "first_campaign": 999999}, "first_campaign"),
        ({"email": "a@example.com", "first_name": "x" * 101}, "first_name"),
    ],
)
def test_it_rejects_bad_input_naming_the_field_and_writes_nothing(marketer, payload, field):
    response = api_as(marketer).post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists()
    assert not StageTransition.objects.exists()


def test_it_rejects_a_duplicate_email_whatever_its_case(marketer):
    LeadFactory(email="dup@example.com")

    response = api_as(marketer).post(
        LIST_URL, {"email": "DUP@example.com", "company_name": "New Co"}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert Lead.objects.count() == 1
    assert not Company.objects.filter(name="New Co").exists()


def test_it_updates_fields_but_not_the_stage(marketer):
    lead = LeadFactory(first_name="Old")

    ok = api_as(marketer).patch(detail_url(lead), {"first_name": "New"}, format="json")
    stage = api_as(marketer).patch(detail_url(lead), {"stage": "customer"}, format="json")

    assert ok.status_code == 200
    assert ok.json()["first_name"] == "New"
    assert stage.status_code == 400
    assert "stage" in stage.json()
    lead.refresh_from_db()
    assert (lead.first_name, lead.stage) == ("New", Stage.UNQUALIFIED)


def test_it_moves_a_lead_and_answers_with_the_next_choices(sales_manager):
    lead = LeadFactory(stage=Stage.MQL)

    response = api_as(sales_manager).post(
        transition_url(lead), {"to_stage": "sql", "reason": "BANT confirmed"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["from_stage"], body["to_stage"], body["by_user"]) == (
        "mql",
        "sql",
        sales_manager.pk,
    )
    assert body["allowed_next_stages"] == ["opportunity", "nurture", "disqualified"]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SQL


def test_it_answers_a_forbidden_move_with_409_and_the_allowed_stages(sales_manager):
    lead = LeadFactory(stage=Stage.UNQUALIFIED)

    response = api_as(sales_manager).post(
        transition_url(lead), {"to_stage": "customer"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["allowed"] == ["mql", "nurture", "disqualified"]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.UNQUALIFIED
    assert not StageTransition.objects.filter(lead=lead).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"to_stage": "won"}, "to_stage"), ({}, "to_stage"), ({"to_stage": "nurture"}, "reason")],
)
def test_it_rejects_a_bad_transition_request_naming_the_field(sales_manager, payload, field):
    lead = LeadFactory(stage=Stage.MQL)

    response = api_as(sales_manager).post(transition_url(lead), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL


def test_it_shows_a_sales_rep_only_own_leads_and_unassigned_mqls(sales_rep, other_rep):
    own = LeadFactory(owner=sales_rep, stage=Stage.SQL)
    open_mql = LeadFactory(owner=None, stage=Stage.MQL)
    LeadFactory(owner=other_rep, stage=Stage.SQL)
    LeadFactory(owner=None, stage=Stage.UNQUALIFIED)
    others = LeadFactory(owner=other_rep, stage=Stage.MQL)
    client = api_as(sales_rep)

    listed = {lead["id"] for lead in client.get(LIST_URL).json()["results"]}

    assert listed == {own.pk, open_mql.pk}
    assert client.get(detail_url(others)).status_code == 404
    assert client.patch(detail_url(others), {"city": "Bonn"}, format="json").status_code == 404
    assert client.post(transition_url(others), {"to_stage": "sql"}).status_code == 404


def test_it_lets_a_rep_pick_up_an_mql_but_not_hand_leads_to_others(sales_rep, other_rep):
    mql = LeadFactory(owner=None, stage=Stage.MQL)
    client = api_as(sales_rep)

    to_other = client.patch(detail_url(mql), {"owner": other_rep.pk}, format="json")
    to_self = client.patch(detail_url(mql), {"owner": sales_rep.pk}, format="json")

    assert to_other.status_code == 400
    assert "owner" in to_other.json()
    assert to_self.status_code == 200
    assert to_self.json()["owner"]["id"] == sales_rep.pk


@pytest.mark.parametrize(
    ("role_fixture", "can_create", "can_delete"),
    [
        ("marketer", True, False),
        ("sales_rep", False, False),
        ("sales_manager", True, True),
        ("admin_user", True, True),
    ],
)
def test_it_grants_each_role_its_writes(request, role_fixture, can_create, can_delete):
    user = request.getfixturevalue(role_fixture)
    lead = LeadFactory(owner=user, stage=Stage.SQL)
    client = api_as(user)

    created = client.post(LIST_URL, {"email": f"{role_fixture}@example.com"}, format="json")
    deleted = client.delete(detail_url(lead))

    assert created.status_code == (201 if can_create else 403)
    assert deleted.status_code == (204 if can_delete else 403)
    assert Lead.objects.filter(pk=lead.pk).exists() is not can_delete


def test_it_filters_by_stage_and_owner_and_searches(sales_manager, sales_rep):
    wanted = LeadFactory(stage=Stage.SQL, owner=sales_rep, last_name="Zuse")
    LeadFactory(stage=Stage.SQL)  # owned by another rep
    LeadFactory(stage=Stage.MQL, owner=sales_rep)
    client = api_as(sales_manager)

    by_stage_owner = client.get(LIST_URL, {"stage": "sql", "owner": sales_rep.pk}).json()
    by_name = client.get(LIST_URL, {"q": "zus"}).json()
    bad_stage = client.get(LIST_URL, {"stage": "won"})

    assert [lead["id"] for lead in by_stage_owner["results"]] == [wanted.pk]
    assert [lead["id"] for lead in by_name["results"]] == [wanted.pk]
    assert bad_stage.status_code == 400
    assert "stage" in bad_stage.json()


def test_it_pages_with_a_cursor_newest_first(marketer):
    leads = LeadFactory.create_batch(5)
    client = api_as(marketer)

    first = client.get(LIST_URL, {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    ids = [lead["id"] for lead in first["results"] + second["results"]]
    assert ids == [lead.pk for lead in reversed(leads)]
    assert second["next"] is None


@pytest.mark.parametrize("count", [3, 30])
def test_it_lists_with_a_constant_number_of_queries(marketer, django_assert_num_queries, count):
    for company in CompanyFactory.create_batch(count):
        LeadFactory(company=company, owner=marketer, first_campaign=CampaignFactory())
    client = api_as(marketer)

    # the user's roles and permissions (one query), the page with its capped count beside it
    with django_assert_num_queries(2):
        response = client.get(LIST_URL, {"page_size": 50})

    assert len(response.json()["results"]) == count
    assert response.json()["count"] == count


def test_it_serves_schema_and_swagger_ui_to_signed_in_users_only(client, sales_rep):
    anonymous_schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    anonymous_docs = client.get("/api/docs/")
    client.force_login(sales_rep)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    docs = client.get("/api/docs/")
    docs_script = client.get("/api/docs/", {"script": ""})

    assert anonymous_schema.status_code == 401
    assert anonymous_docs.status_code == 302
    assert anonymous_docs["Location"] == "/login/?next=/api/docs/"
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/leads/", "/api/v1/leads/{id}/", "/api/v1/leads/{id}/transition/"} <= set(paths)
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"<script>" not in docs.content  # the start script is a file of its own (CSP)
    assert docs_script.status_code == 200
    assert docs_script["Content-Type"] == "application/javascript"


def test_it_shows_the_api_docs_link_to_every_signed_in_user(client, sales_rep):
    client.force_login(sales_rep)

    page = client.get(reverse("leads:list"))

    assert b'href="/api/docs/"' in page.content


def test_it_documents_the_errors_every_operation_can_answer_with(client, marketer):
    client.force_login(marketer)

    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    statuses = {
        f"{method.upper()} {path}": sorted(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert statuses == {
        "GET /api/v1/leads/": ["200", "400", "401", "403", "406", "429"],
        "POST /api/v1/leads/": ["201", "400", "401", "403", "406", "413", "415", "429"],
        "POST /api/v1/leads/upsert/": [
            "200", "201", "400", "401", "403", "406", "409", "413", "415", "429",
        ],
        "GET /api/v1/leads/{id}/": ["200", "401", "403", "404", "406", "429"],
        "PATCH /api/v1/leads/{id}/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "DELETE /api/v1/leads/{id}/": ["204", "401", "403", "404", "406", "409", "429"],
        "POST /api/v1/leads/{id}/claim/": [
            "200", "400", "401", "403", "404", "406", "409", "429",
        ],
        "POST /api/v1/leads/{id}/transition/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "GET /api/v1/scoring/profile/": ["200", "401", "403", "406", "429"],
        "POST /api/v1/scoring/rescorings/": [
            "202", "400", "401", "403", "406", "413", "415", "429",
        ],
        "GET /api/v1/scoring/rescorings/{id}/": ["200", "401", "403", "404", "406", "429"],
        "POST /api/v1/scoring/rescorings/{id}/save/": [
            "202", "400", "401", "403", "404", "406", "429",
        ],
        "GET /api/v1/scoring/versions/": ["200", "400", "401", "403", "406", "429"],
        "POST /api/v1/events/": ["201", "400", "401", "403", "406", "413", "415", "429"],
        "GET /api/v1/leads/{id}/score/": ["200", "401", "403", "404", "406", "429"],
        # sales/api.py
        "GET /api/v1/leads/{id}/qualification/": ["200", "401", "403", "404", "406", "429"],
        "PUT /api/v1/leads/{id}/qualification/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "POST /api/v1/leads/{id}/qualification/accept/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "POST /api/v1/leads/{id}/qualification/reject/": [
            "201", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "GET /api/v1/qualification-policy/": ["200", "401", "403", "406", "429"],
        "PUT /api/v1/qualification-policy/": [
            "200", "400", "401", "403", "406", "413", "415", "429",
        ],
        "GET /api/v1/rejection-reasons/": ["200", "401", "403", "406", "429"],
        "POST /api/v1/rejection-reasons/": [
            "201", "400", "401", "403", "406", "413", "415", "429",
        ],
        "GET /api/v1/rejection-reasons/{id}/": ["200", "401", "403", "404", "406", "429"],
        "PATCH /api/v1/rejection-reasons/{id}/": [
            "200", "400", "401", "403", "404", "406", "413", "415", "429",
        ],
        "DELETE /api/v1/rejection-reasons/{id}/": [
            "204", "401", "403", "404", "406", "409", "429",
        ],
        "GET /api/v1/rejections/by-campaign/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/activities/": ["200", "400", "401", "403", "406", "429"],
        "POST /api/v1/activities/": [
            "201", "400", "401", "403", "406", "409", "413", "415", "429",
        ],
        "GET /api/v1/activities/{id}/": ["200", "401", "403", "404", "406", "429"],
        "POST /api/v1/activities/{id}/complete/": [
            "200", "400", "401", "403", "404", "406", "429",
        ],
        "POST /api/v1/activities/{id}/reopen/": [
            "200", "400", "401", "403", "404", "406", "429",
        ],
        # sales/pipeline_api.py
        "GET /api/v1/opportunities/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/opportunities/{id}/": ["200", "401", "403", "404", "406", "429"],
        "POST /api/v1/opportunities/{id}/move/": [
            "200", "400", "401", "403", "404", "406", "413", "415", "429",
        ],
        "POST /api/v1/opportunities/{id}/won/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "POST /api/v1/opportunities/{id}/lost/": [
            "200", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "POST /api/v1/leads/{id}/convert/": [
            "201", "400", "401", "403", "404", "406", "409", "413", "415", "429",
        ],
        "GET /api/v1/pipeline-stages/": ["200", "401", "403", "406", "429"],
        "GET /api/v1/lost-reasons/": ["200", "401", "403", "406", "429"],
        # sales/assignment_api.py
        "GET /api/v1/assignment-rules/": ["200", "401", "403", "406", "429"],
        "POST /api/v1/assignment-rules/": ["201", "400", "401", "403", "406", "413", "415", "429"],
        "GET /api/v1/assignment-rules/{id}/": ["200", "401", "403", "404", "406", "429"],
        "PUT /api/v1/assignment-rules/{id}/": [
            "200", "400", "401", "403", "404", "406", "413", "415", "429",
        ],
        "DELETE /api/v1/assignment-rules/{id}/": ["204", "401", "403", "404", "406", "429"],
        "GET /api/v1/leads/{id}/assignments/": ["200", "401", "403", "404", "406", "429"],
        "POST /api/v1/leads/reassign/": ["200", "400", "401", "403", "406", "413", "415", "429"],
        "GET /api/v1/notifications/": ["200", "401", "403", "406", "429"],
        "POST /api/v1/notifications/read/": [
            "200", "400", "401", "403", "406", "413", "415", "429",
        ],
        "GET /api/v1/reps/{user_id}/profile/": ["200", "401", "403", "404", "406", "429"],
        "PATCH /api/v1/reps/{user_id}/profile/": [
            "200", "400", "401", "403", "404", "406", "413", "415", "429",
        ],
        "GET /api/v1/reps/me/profile/": ["200", "401", "403", "404", "406", "429"],
        "PATCH /api/v1/reps/me/profile/": [
            "200", "400", "401", "403", "404", "406", "413", "415", "429",
        ],
        "GET /api/v1/team-load/": ["200", "401", "403", "406", "429"],
        "GET /api/v1/teams/": ["200", "401", "403", "406", "429"],
        "POST /api/v1/teams/": ["201", "400", "401", "403", "406", "413", "415", "429"],
        "GET /api/v1/teams/{id}/": ["200", "401", "403", "404", "406", "429"],
        "PUT /api/v1/teams/{id}/": ["200", "400", "401", "403", "404", "406", "413", "415", "429"],
        "DELETE /api/v1/teams/{id}/": ["204", "401", "403", "404", "406", "429"],
        # reporting/api.py
        "GET /api/v1/reports/overview/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/funnel/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/trend/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/channels/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/campaigns/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/sales/": ["200", "400", "401", "403", "406", "429"],
        "GET /api/v1/reports/directions/": ["200", "400", "401", "403", "406", "429"],
    }  # fmt: skip
    error = paths["/api/v1/leads/"]["get"]["responses"]["401"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/Error"}


def test_it_documents_that_leaving_the_funnel_needs_a_reason(client, marketer):
    client.force_login(marketer)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/leads/{id}/transition/"]["post"]
    assert operation["requestBody"]["required"] is True
    components = schema["components"]["schemas"]

    def component(ref: dict) -> dict:
        return components[ref["$ref"].rsplit("/", 1)[1]]

    by_stages = {
        tuple(component(branch["properties"]["to_stage"])["enum"]): (
            branch.get("required"),
            branch["properties"]["reason"].get("pattern"),
        )
        for branch in map(component, components["TransitionInputRequest"]["oneOf"])
    }
    assert by_stages == {
        ("unqualified", "mql", "sql", "opportunity", "customer"): (["to_stage"], None),
        ("nurture", "disqualified"): (["reason", "to_stage"], "\\S"),
    }


@pytest.mark.parametrize("ordering", [None, "behaviour_score", "-updated_at", "stage_changed_at"])
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "cD1hYmM=",  # DRF's own format: p=abc
        "eyJyIjpmYWxzZSwicCI6WyJhYmMiLCIxIl19",  # {"r":false,"p":["abc","1"]}
        "eyJyIjpmYWxzZSwicCI6WyIxIl19",  # {"r":false,"p":["1"]}: too short
        "eyJyIjoxLCJwIjpbIjEiLCIxIl19",  # {"r":1,"p":["1","1"]}: r is not a boolean
        "W10=",  # []
    ],
)
def test_it_answers_a_garbled_cursor_with_400_naming_it(marketer, ordering, cursor):
    LeadFactory()
    params = {"cursor": cursor} | ({"ordering": ordering} if ordering else {})

    response = api_as(marketer).get(LIST_URL, params)

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor: follow the next or previous link."]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "email"}, "ordering"),
        ({"ordering": "created_at,-password"}, "ordering"),
        ({"ordering": ","}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "2.5"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"owner": "2.9"}, "owner"),
        ({"owner": "1e400"}, "owner"),
        ({"owner": "0"}, "owner"),
        ({"owner": ""}, "owner"),
        ({"campaign": "abc"}, "campaign"),
        ({"unassigned": "null"}, "unassigned"),
        ({"unassigned": ""}, "unassigned"),
        ({"created_before": ""}, "created_before"),
        ({"created_after": "2026-02-30"}, "created_after"),
        ({"temperature": ""}, "temperature"),
        ({"q": "nul\x00"}, "q"),
    ],
)
def test_it_rejects_bad_list_parameters_naming_them(marketer, params, field):
    response = api_as(marketer).get(LIST_URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_it_finds_nothing_for_an_owner_or_campaign_that_does_not_exist(marketer):
    LeadFactory(owner=marketer)

    by_owner = api_as(marketer).get(LIST_URL, {"owner": 9_223_372_036_854_775_807})
    by_campaign = api_as(marketer).get(LIST_URL, {"campaign": 424242})

    assert (by_owner.status_code, by_owner.json()["results"]) == (200, [])
    assert (by_campaign.status_code, by_campaign.json()["results"]) == (200, [])


def _walk(client, url, params, direction="next"):
    ids, pages = [], 0
    body = client.get(url, params).json()
    while True:
        pages += 1
        ids.extend(lead["id"] for lead in body["results"])
        if not body[direction] or pages > 50:
            return ids, pages, body
        body = client.get(body[direction]).json()


@pytest.mark.parametrize(
    ("ordering", "descending"),
    [("behaviour_score", False), ("-behaviour_score", True), ("created_at", False)],
)
def test_it_walks_every_page_of_a_large_tied_set_exactly_once(marketer, ordering, descending):
    """More leads than DRF's offset cutoff (1,000) tie on the ordering field (every new lead
    scores 0): ``next`` visits each lead once and stops, ``previous`` leads back."""
    same_time = timezone.now()
    Lead.objects.bulk_create(
        Lead(
            email=f"tied{n}@example.com",
            email_key=f"tied{n}@example.com",
            created_at=same_time,
            updated_at=same_time,
        )
        for n in range(1050)
    )
    # bulk_create skips Lead.save, which gives a lead its score row.
    LeadScore.objects.bulk_create(LeadScore(lead=lead) for lead in Lead.objects.all())
    # Statistics, as autovacuum gathers them after a bulk load on a live database: without
    # them PostgreSQL took both tables for nearly empty and ran the page's id subquery once per
    # lead (two full runs timed out at 120 s).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead, leads_leadscore")
    expected = sorted(Lead.objects.values_list("id", flat=True), reverse=descending)
    client = api_as(marketer)

    forward, pages, last = _walk(client, LIST_URL, {"ordering": ordering, "page_size": 200})
    back, back_pages, first = _walk(client, last["previous"], {}, direction="previous")

    assert pages == 6
    assert forward == expected
    assert last["next"] is None
    assert back_pages == 5
    assert back == [
        *expected[800:1000],
        *expected[600:800],
        *expected[400:600],
        *expected[200:400],
        *expected[:200],
    ]
    assert first["previous"] is None


def test_it_pages_backwards_to_the_first_page(marketer):
    leads = LeadFactory.create_batch(5)
    client = api_as(marketer)

    first = client.get(LIST_URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()

    newest_first = [lead.pk for lead in reversed(leads)]
    assert [lead["id"] for lead in second["results"]] == newest_first[2:4]
    assert [lead["id"] for lead in back["results"]] == newest_first[:2]
    assert back["previous"] is None


@pytest.mark.parametrize("field", ["owner", "company", "first_campaign", "last_campaign"])
@pytest.mark.parametrize(
    "raw_value",
    ["1e400", "2.9", "2.0", "true", '"12a"', '"٣"', '""', "-1", "0", "99999999999999999999", "[1]"],
)
def test_it_refuses_ids_that_are_not_whole_numbers_naming_the_field(marketer, field, raw_value):
    body = f'{{"email": "ids@example.com", "{field}": {raw_value}}}'

    response = api_as(marketer).generic("POST", LIST_URL, body, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Lead.objects.exists()
    assert not Company.objects.exists()


def test_it_takes_an_id_written_as_digits(sales_manager, sales_rep):
    response = api_as(sales_manager).post(
        LIST_URL, {"email": "digits@example.com", "owner": str(sales_rep.pk)}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["owner"]["id"] == sales_rep.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "t@example.com", "first_name": 0}, "first_name"),
        ({"email": "t@example.com", "utm_content": 1.5}, "utm_content"),
        ({"email": "t@example.com", "city": True}, "city"),
        ({"email": 7}, "email"),
        ({"email": "t@example.com", "company_name": ["Acme"]}, "company_name"),
    ],
)
def test_it_refuses_text_fields_that_are_not_strings(marketer, payload, field):
    response = api_as(marketer).post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Lead.objects.exists()


def test_it_answers_deeply_nested_json_with_400(marketer):
    body = '{"email": "deep@example.com", "first_name": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = api_as(marketer).generic("POST", LIST_URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the document is nested too deeply."}
    assert not Lead.objects.exists()


def test_it_answers_a_10_mb_body_with_a_json_413(marketer):
    body = '{"email": "big@example.com", "first_name": "' + "x" * 10_000_000 + '"}'

    response = api_as(marketer).generic("POST", LIST_URL, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 2621440 bytes."}
    assert not Lead.objects.exists()


def test_it_answers_a_10_mb_form_on_a_page_with_an_html_413(client):
    response = client.post(
        "/login/", "username=" + "x" * 10_000_000, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"The request body is larger than 2621440 bytes." in response.content


def test_it_takes_json_bodies_only(marketer):
    response = api_as(marketer).post(LIST_URL, {"email": "form@example.com"})

    assert response.status_code == 415
    assert not Lead.objects.exists()


def test_it_answers_unknown_api_paths_with_json(marketer):
    response = api_as(marketer).get("/api/v1/leads/not-a-number/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_throttles_each_user_and_says_when_to_retry(settings, marketer, sales_manager):
    settings.API_THROTTLE_RATES = {"anon": "100/minute", "user": "3/minute"}
    client = api_as(marketer)

    with time_machine.travel(datetime(2026, 12, 7, 9, 15, 30, tzinfo=UTC), tick=False):
        statuses = [client.get(LIST_URL).status_code for _ in range(4)]
        other_user = api_as(sales_manager).get(LIST_URL)
        refused = client.get(LIST_URL)

    assert statuses == [200, 200, 200, 429]
    assert other_user.status_code == 200
    assert refused.status_code == 429
    # 3 requests at 9:15:30 count 3 * (1 - f) in the next minute, f its share gone; one more
    # fits at f = 1/3: at 9:16:20, 50 s later.
    assert refused["Retry-After"] == "50"
    assert refused.json()["detail"] == "Request was throttled. Expected available in 50 seconds."


def test_it_throttles_token_clients_too(settings, marketer):
    settings.API_THROTTLE_RATES = {"anon": "100/minute", "user": "2/minute"}
    token = Token.objects.create(user=marketer)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    statuses = [client.get(LIST_URL).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_it_searches_by_company_name_prefix_and_email(marketer):
    at_navy = LeadFactory(company=CompanyFactory(name="Navy Labs"), email="g@navy.example")
    LeadFactory(company=CompanyFactory(name="Army Labs"))
    client = api_as(marketer)

    by_company = client.get(LIST_URL, {"q": "navy"}).json()["results"]
    by_email = client.get(LIST_URL, {"q": "G@NAVY"}).json()["results"]

    assert [lead["id"] for lead in by_company] == [at_navy.pk]
    assert [lead["id"] for lead in by_email] == [at_navy.pk]


def test_it_has_the_prefix_search_indexes_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("The search indexes are PostgreSQL's: run with `make test`.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s", ["%_prefix"]
        )
        indexes = dict(cursor.fetchall())

    assert set(indexes) == {
        "lead_last_name_prefix",
        "lead_first_name_prefix",
        "company_name_prefix",
    }
    assert all("text_pattern_ops" in definition for definition in indexes.values())
    # Each of the search's ways of matching is read from its index alone (migration 0020).
    assert indexes["lead_last_name_prefix"].endswith("INCLUDE (last_name, created_at, id)")
    assert indexes["lead_first_name_prefix"].endswith("INCLUDE (first_name, created_at, id)")
    # The e-mail prefix search uses the unique index on the normalised address.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE indexname IN ('lead_email_key_unique', 'lead_company')"
        )
        indexes = dict(cursor.fetchall())
    assert indexes["lead_email_key_unique"].startswith("CREATE UNIQUE INDEX")
    assert indexes["lead_email_key_unique"].endswith(
        "(email_key varchar_pattern_ops) INCLUDE (created_at, id)"
    )
    assert indexes["lead_company"].endswith("(company_id, id) INCLUDE (created_at)")


# --- Lifecycle and ownership through the services -------------------------------------------


def claim_url(lead: Lead) -> str:
    return reverse("api-lead-claim", args=[lead.pk])


@pytest.mark.parametrize("stage", ["unqualified", "mql", "customer"])
def test_it_refuses_a_stage_on_create_and_says_how_stages_change(marketer, stage):
    response = api_as(marketer).post(
        LIST_URL, {"email": "staged@example.com", "stage": stage}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "stage": [
            "A new lead starts unqualified; change its stage afterwards with "
            "POST /api/v1/leads/{id}/transition/."
        ]
    }
    assert not Lead.objects.exists()


def test_it_does_not_offer_a_stage_on_create_in_the_schema(client, marketer):
    client.force_login(marketer)

    components = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]

    assert "stage" not in components["schemas"]["LeadCreateInputRequest"]["properties"]
    assert "stage" not in components["schemas"]["PatchedLeadUpdateInputRequest"]["properties"]


def test_it_records_each_changed_field_and_answers_with_the_saved_lead(marketer):
    lead = LeadFactory(city="Bonn", job_title="CTO")

    response = api_as(marketer).patch(
        detail_url(lead), {"city": "Köln", "job_title": "CTO"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["city"], response.json()["job_title"]) == ("Köln", "CTO")
    changes = LeadChange.objects.filter(lead=lead)
    assert [(c.field, c.old_value, c.new_value, c.by_user) for c in changes] == [
        ("city", "Bonn", "Köln", marketer)
    ]


def test_it_answers_409_when_the_lead_is_reassigned_between_check_and_write(
    monkeypatch, sales_rep, other_rep
):
    """A manager hands the rep's lead to another rep after the API checked that the rep may see
    it, but before the service locks the row: the edit is refused, not saved blindly (or a 500)."""
    lead = LeadFactory(owner=sales_rep, stage=Stage.SQL, city="Bonn")
    check_visible = leads_api._check_visible

    def reassigned_right_after_the_check(request, pk):
        check_visible(request, pk)
        Lead.objects.filter(pk=pk).update(owner=other_rep)

    monkeypatch.setattr(leads_api, "_check_visible", reassigned_right_after_the_check)

    response = api_as(sales_rep).patch(detail_url(lead), {"city": "Köln"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This lead was reassigned or deleted in the meantime; reload and check.",
        "lead_id": lead.pk,
    }
    assert Lead.objects.get(pk=lead.pk).city == "Bonn"
    assert not LeadChange.objects.exists()


@pytest.mark.parametrize(
    ("owner_fixture", "acting_fixture"),
    [
        ("marketer", "sales_manager"),  # active, but neither rep nor manager
        ("no_role_user", "sales_manager"),
        ("inactive_rep", "sales_manager"),
        ("other_rep", "sales_rep"),  # a rep assigns only themselves
    ],
)
def test_it_assigns_leads_only_to_whom_the_user_may(request, owner_fixture, acting_fixture):
    owner = request.getfixturevalue(owner_fixture)
    acting = request.getfixturevalue(acting_fixture)
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    created = api_as(acting).post(
        LIST_URL, {"email": "own@example.com", "owner": owner.pk}, format="json"
    )
    changed = api_as(acting).patch(detail_url(lead), {"owner": owner.pk}, format="json")

    message = (
        f"User {owner.pk} cannot own leads: choose an active sales rep or sales manager "
        "(a sales rep only themselves)."
    )
    assert created.status_code in {400, 403}  # a sales rep may not create leads at all
    if created.status_code == 400:
        assert created.json() == {"owner": [message]}
    assert changed.status_code == 400
    assert changed.json() == {"owner": [message]}
    assert Lead.objects.get(pk=lead.pk).owner is None
    assert not Lead.objects.filter(email="own@example.com").exists()


@pytest.fixture
def inactive_rep(db):
    return UserFactory(username="gone", role=Role.SALES_REP, is_active=False)


def test_it_lets_a_manager_assign_a_rep(sales_manager, sales_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(sales_manager).patch(detail_url(lead), {"owner": sales_rep.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["owner"] == {
        "id": sales_rep.pk,
        "username": "rep",
        "name": sales_rep.get_full_name(),
    }
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep


def test_it_lets_a_rep_claim_an_unassigned_mql(sales_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(sales_rep).post(claim_url(lead))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["owner"]["id"]) == (lead.pk, sales_rep.pk)
    assert Lead.objects.get(pk=lead.pk).owner == sales_rep
    change = LeadChange.objects.get(lead=lead)
    assert (change.field, change.old_value, change.by_user) == ("owner", "", sales_rep)


def test_it_answers_409_to_a_claim_on_a_lead_that_has_an_owner(sales_manager, sales_rep):
    owned = LeadFactory(owner=sales_rep, stage=Stage.MQL)
    unqualified = LeadFactory(owner=None, stage=Stage.UNQUALIFIED)
    client = api_as(sales_manager)

    taken = client.post(claim_url(owned))
    not_mql = client.post(claim_url(unqualified))

    assert taken.status_code == 409
    assert taken.json() == {
        "detail": "Someone else claimed this lead first, or it is no longer an unassigned MQL.",
        "lead_id": owned.pk,
    }
    assert not_mql.status_code == 409
    assert Lead.objects.get(pk=owned.pk).owner == sales_rep
    assert Lead.objects.get(pk=unqualified.pk).owner is None


def test_it_tells_nothing_about_leads_a_rep_may_not_see_when_claiming(sales_rep, other_rep):
    others = LeadFactory(owner=other_rep, stage=Stage.SQL)

    theirs = api_as(sales_rep).post(claim_url(others))
    unknown = api_as(sales_rep).post(reverse("api-lead-claim", args=[others.pk + 1000]))

    assert (theirs.status_code, unknown.status_code) == (409, 409)
    assert theirs.json()["detail"] == unknown.json()["detail"]
    assert Lead.objects.get(pk=others.pk).owner == other_rep


def test_it_forbids_claims_without_the_change_permission(no_role_user):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(no_role_user).post(claim_url(lead))

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_it_refuses_a_claim_by_someone_who_cannot_own_leads(marketer):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(marketer).post(claim_url(lead))

    assert response.status_code == 400
    assert response.json() == {"owner": ["Only sales reps and managers can claim leads."]}
    assert Lead.objects.get(pk=lead.pk).owner is None


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_lead_claimed_by_two_reps_at_once_to_exactly_one(sales_rep, other_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL)
    reps = [sales_rep, other_rep]

    statuses = run_in_threads(2, lambda i: api_as(reps[i]).post(claim_url(lead)).status_code)

    assert sorted(statuses) == [200, 409]
    winner = reps[statuses.index(200)]
    assert Lead.objects.get(pk=lead.pk).owner == winner
    assert LeadChange.objects.filter(lead=lead).count() == 1


def test_it_deletes_with_an_audit_entry(sales_manager):
    lead = LeadFactory(email="Gone@Example.com")

    response = api_as(sales_manager).delete(detail_url(lead))

    assert response.status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id, entry.by_user) == (
        "lead_deleted",
        lead.pk,
        sales_manager,
    )
    assert entry.email_sha256 == hashlib.sha256(b"gone@example.com").hexdigest()


def test_it_needs_an_owner_before_a_marketer_qualifies_an_mql(marketer):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(marketer).post(transition_url(lead), {"to_stage": "sql"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"owner": ["Assign an owner before moving the lead to this stage."]}
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
    assert not StageTransition.objects.filter(lead=lead).exists()


def test_it_gives_an_unowned_mql_to_the_rep_who_qualifies_it(sales_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL)

    response = api_as(sales_rep).post(transition_url(lead), {"to_stage": "sql"}, format="json")

    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == (Stage.SQL, sales_rep)


@pytest.mark.parametrize("ordering", ["-created_at", "behaviour_score"])
def test_it_reads_a_later_page_with_the_same_number_of_queries(
    marketer, django_assert_num_queries, ordering
):
    for _ in range(5):
        LeadFactory(owner=None, first_campaign=CampaignFactory())
    first = api_as(marketer).get(LIST_URL, {"page_size": 2, "ordering": ordering}).json()
    client = api_as(User.objects.get(pk=marketer.pk))  # nothing cached on the user yet

    # the user's roles and permissions (one query), the page with its capped count beside it
    with django_assert_num_queries(2):
        response = client.get(first["next"])

    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("with_relations", [True, False])
def test_it_answers_with_exactly_the_fields_the_generic_serializer_would(with_relations, sales_rep):
    from leads.api import LeadOutputSerializer

    lead = LeadFactory(
        stage=Stage.SQL,
        owner=sales_rep,
        country="DE",
        seniority="director",
        first_campaign=CampaignFactory(),
        behaviour_score=12.5,
    )
    if not with_relations:
        lead = LeadFactory(company=None, owner=None, country="")
    generic = super(LeadOutputSerializer, LeadOutputSerializer()).to_representation(lead)

    fast = LeadOutputSerializer().to_representation(lead)

    assert list(fast) == list(generic)
    assert fast == generic


@pytest.mark.parametrize("with_relations", [True, False])
@pytest.mark.parametrize("search", [False, True])
def test_it_lists_a_lead_exactly_as_its_own_page_answers(
    with_relations, search, marketer, sales_rep
):
    # The list reads its page as values(), one lead's answer from the model: the same JSON.
    if with_relations:
        lead = LeadFactory(
            email="listed@example.com",
            stage=Stage.SQL,
            owner=sales_rep,
            country="DE",
            first_campaign=CampaignFactory(),
            behaviour_score=12.5,
        )
    else:
        lead = LeadFactory(email="listed@example.com", company=None, owner=None, country="")
    LeadFactory(email="other@example.com")
    client = api_as(marketer)

    listed = client.get(LIST_URL, {"q": "listed@"} if search else {}).json()["results"]
    own = client.get(detail_url(lead)).json()

    assert [row for row in listed if row["id"] == lead.pk] == [own]
    assert (own["owner"] is None, own["company"] is None) == (
        (False, False) if with_relations else (True, True)
    )


def test_it_refuses_an_empty_ordering_naming_it(marketer):
    response = api_as(marketer).get(LIST_URL, {"ordering": ""})

    assert response.status_code == 400
    assert list(response.json()) == ["ordering"]

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from leads.models import Company, Lead, StageTransition
from tests.factories import CampaignFactory, CompanyFactory, LeadFactory

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

    # the user's roles, the user's and the groups' permissions, then one query for the page
    with django_assert_num_queries(4):
        response = client.get(LIST_URL, {"page_size": 50})

    assert len(response.json()["results"]) == count


def test_it_publishes_an_openapi_schema_and_swagger_ui(client, marketer):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    client.force_login(marketer)
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/leads/", "/api/v1/leads/{id}/", "/api/v1/leads/{id}/transition/"} <= set(paths)
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_it_answers_a_garbled_cursor_with_400_naming_it(marketer):
    response = api_as(marketer).get(LIST_URL, {"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert "cursor" in response.json()


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
    # The e-mail prefix search uses the unique index on the normalised address.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lead_email_key_unique'")
        (email_index,) = cursor.fetchone()
    assert email_index.startswith("CREATE UNIQUE INDEX")
    assert "(email_key varchar_pattern_ops)" in email_index

"""The lead list by rank: the rank filter and the "Best rank" order, on the page and in the API."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import Lead, Temperature
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:list")
API_URL = reverse("api-lead-list")
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def lead(name: str, rank: str, score: float, hours: int) -> Lead:
    """A lead called ``name``, created ``hours`` after START."""
    return LeadFactory(
        first_name=name,
        last_name="Test",
        rank=rank,
        grade=rank[0],
        behaviour_score=score,
        created_at=START + timedelta(hours=hours),
    )


@pytest.fixture
def ranked():
    """Eight leads; in "Best rank" order: rank first (A1 best), then the higher score, then the
    newer lead."""
    lead("Dora", "D4", 0.0, 1)
    lead("Bert", "B1", 90.0, 2)
    lead("Anna", "A1", 80.0, 3)
    lead("Carl", "C2", 55.0, 4)
    lead("Abel", "A1", 80.0, 5)  # ties with Anna on rank and score; newer, so first
    lead("Amos", "A1", 95.0, 6)
    lead("Alma", "A3", 30.0, 7)
    lead("Bill", "B1", 91.0, 8)
    return ["Amos", "Abel", "Anna", "Alma", "Bill", "Bert", "Carl", "Dora"]


def names(leads) -> list[str]:
    return [item.first_name if isinstance(item, Lead) else item["first_name"] for item in leads]


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# The page


def test_it_sorts_the_page_by_best_rank(client, marketer, ranked):
    client.force_login(marketer)

    response = client.get(LIST_URL, {"sort": "rank"})

    assert names(response.context["leads"]) == ranked
    assert '<option value="rank" selected>Best rank</option>' in response.content.decode()


def test_it_filters_the_page_by_several_ranks(client, marketer, ranked):
    client.force_login(marketer)

    response = client.get(LIST_URL, {"rank": ["B1", "D4"], "sort": "rank"})

    assert names(response.context["leads"]) == ["Bill", "Bert", "Dora"]
    body = response.content.decode()
    assert 'name="rank" value="B1" id="id_rank_4" checked' in body
    assert 'name="rank" value="A1" id="id_rank_0">' in body


def test_it_reports_an_unknown_rank_on_the_page(client, marketer, ranked):
    client.force_login(marketer)

    response = client.get(LIST_URL, {"rank": "E5"})

    assert response.status_code == 400
    assert "Select a valid choice. E5 is not one of the available choices." in (
        response.content.decode()
    )


def test_it_shows_rank_and_traffic_light_with_its_label_in_each_row(client, marketer):
    LeadFactory(first_name="Hot", rank="A1", temperature=Temperature.HOT)
    LeadFactory(first_name="Warm", rank="B2", temperature=Temperature.WARM)
    LeadFactory(first_name="Cold", rank="D4", temperature=Temperature.COLD)
    client.force_login(marketer)

    body = client.get(LIST_URL, {"sort": "rank"}).content.decode()

    for rank, temperature, label in [
        ("A1", "hot", "Hot"),
        ("B2", "warm", "Warm"),
        ("D4", "cold", "Cold"),
    ]:
        assert (
            f'<span class="score-signal"><span class="badge rank rank-{rank[0]}">'
            f'<span class="visually-hidden">Rank </span>{rank}</span> '
            f'<span class="traffic traffic-{temperature}" data-testid="traffic-light">'
            f'<span class="traffic-dot" aria-hidden="true"></span>{label}</span></span>'
        ) in body  # fmt: skip


@pytest.mark.parametrize("count", [3, 30])
def test_it_sorts_and_filters_by_rank_with_a_fixed_number_of_queries(
    client, marketer, django_assert_num_queries, count
):
    LeadFactory.create_batch(count, rank="A2", first_campaign=CampaignFactory())
    client.force_login(marketer)

    # session, user, roles and permissions, saved views, chosen columns, count, page
    # of leads, owners (filter and bulk assign) and campaigns for the selects
    with django_assert_num_queries(10):
        response = client.get(LIST_URL, {"sort": "rank", "rank": ["A2", "B1"]})

    assert len(response.context["leads"]) == count


# The API


def test_it_orders_the_api_by_rank_and_back(marketer, ranked):
    client = api_as(marketer)

    best = client.get(API_URL, {"ordering": "rank"}).json()["results"]
    worst = client.get(API_URL, {"ordering": "-rank"}).json()["results"]

    assert names(best) == ranked
    assert names(worst) == list(reversed(ranked))


def test_it_pages_through_the_rank_order_by_cursor_each_lead_once(marketer, ranked):
    client = api_as(marketer)
    seen, url, params = [], API_URL, {"ordering": "rank", "page_size": 3}
    while url:
        page = client.get(url, params).json()
        seen.append(names(page["results"]))
        url, params = page["next"], None

    assert seen == [["Amos", "Abel", "Anna"], ["Alma", "Bill", "Bert"], ["Carl", "Dora"]]

    previous = client.get(client.get(API_URL, {"ordering": "rank", "page_size": 3}).json()["next"])
    back = client.get(previous.json()["previous"]).json()
    assert names(back["results"]) == ["Amos", "Abel", "Anna"]


def test_it_filters_the_api_by_several_ranks(marketer, ranked):
    response = api_as(marketer).get(API_URL, {"rank": ["A1", "C2"], "ordering": "rank"})

    assert names(response.json()["results"]) == ["Amos", "Abel", "Anna", "Carl"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"rank": "A5"}, {"rank": [
            "Select a valid choice. A5 is not one of the available choices."
        ]}),
        ({"rank": ""}, {"rank": ["Give a value or leave the parameter out."]}),
        ({"ordering": "rank_order"}, {"ordering": [
            "Cannot order by “rank_order”. Choose from: behaviour_score, created_at, rank, "
            "stage_changed_at, updated_at."
        ]}),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_rank_filter_or_ordering_naming_the_parameter(marketer, params, error):
    response = api_as(marketer).get(API_URL, params)

    assert (response.status_code, response.json()) == (400, error)


def test_it_refuses_a_forged_rank_cursor(marketer, ranked):
    token = {"r": False, "p": ["best", "1.0", "2026-03-02T10:00:00+00:00", "1"]}
    cursor = base64.b64encode(json.dumps(token).encode()).decode()

    response = api_as(marketer).get(API_URL, {"ordering": "rank", "cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor: follow the next or previous link."]}


def test_it_reads_a_later_rank_page_with_the_same_number_of_queries(
    marketer, django_assert_num_queries, ranked
):
    params = {"ordering": "rank", "page_size": 3, "rank": ["A1", "A3", "B1"]}
    first = api_as(marketer).get(API_URL, params).json()
    client = api_as(User.objects.get(pk=marketer.pk))  # nothing cached on the user yet

    # the user's roles and permissions (one query), the page with its capped count
    with django_assert_num_queries(2):
        response = client.get(first["next"])

    assert names(response.json()["results"]) == ["Alma", "Bill", "Bert"]


def test_it_documents_the_rank_filter_and_ordering(marketer):
    schema = api_as(marketer).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/leads/"]["get"]["parameters"]}
    assert parameters["rank"]["schema"]["items"]["enum"] == [
        "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4",
        "C1", "C2", "C3", "C4", "D1", "D2", "D3", "D4",
    ]  # fmt: skip
    assert {"rank", "-rank"} <= set(parameters["ordering"]["schema"]["items"]["enum"])

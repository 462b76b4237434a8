"""A search reads its page and its count in one pass over the matches (leadcrm.paging.scan_page),
on the lead list page and in the API: same rows, order, pages and counts as any other list."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from leads.filters import LeadFilter
from leads.lifecycle import Stage
from leads.listing import SORTS
from leads.selectors import lead_page, lead_visible_to
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

API_URL = reverse("api-lead-list")
PAGE_URL = reverse("leads:list")


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


@pytest.fixture
def searched(db):
    """Six leads that "schm" finds (by last name, first name, e-mail or company) and two it
    does not; created on days 1 to 8, scores chosen so the score order differs."""
    schmidt_gmbh = CompanyFactory(name="Schmidt GmbH")
    rows = [
        # e-mail, last name, first name, company, created day, score
        ("a@example.com", "Schmitt", "Anna", None, 1, 40.0),
        ("b@example.com", "Berger", "Schmuel", None, 2, 90.0),
        ("schmo@example.com", "Otto", "Olga", None, 3, 10.0),
        ("d@example.com", "Diaz", "Dan", schmidt_gmbh, 4, 70.0),
        ("e@example.com", "Schmidt", "Eva", None, 5, 20.0),
        ("f@example.com", "SCHMALZ", "Finn", None, 6, 55.0),
        ("g@example.com", "Schulz", "Gerd", None, 7, 99.0),  # "schu", not "schm"
        ("h@example.com", "Hahn", "Hans", None, 8, 50.0),
    ]
    return {
        email: LeadFactory(
            email=email,
            last_name=last,
            first_name=first,
            company=company,
            created_at=at(day),
            behaviour_score=score,
        )
        for email, last, first, company, day, score in rows
    }


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def emails(results) -> list[str]:
    return [lead["email"] for lead in results]


NEWEST = ["f@example.com", "e@example.com", "d@example.com", "schmo@example.com"]
NEWEST += ["b@example.com", "a@example.com"]
BY_SCORE = ["b@example.com", "d@example.com", "f@example.com", "a@example.com"]
BY_SCORE += ["e@example.com", "schmo@example.com"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-created_at", NEWEST),
        ("-behaviour_score", BY_SCORE),
        ("created_at", NEWEST[::-1]),
        ("behaviour_score", BY_SCORE[::-1]),
    ],
)
def test_the_api_pages_through_a_search_in_order_with_its_count(
    marketer, searched, ordering, expected
):
    client = api_as(marketer)

    first = client.get(API_URL, {"q": "schm", "ordering": ordering, "page_size": 4}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()

    assert emails(first["results"]) == expected[:4]
    assert emails(second["results"]) == expected[4:]
    assert second["next"] is None
    assert emails(back["results"]) == expected[:4]
    assert [(page["count"], page["count_capped"]) for page in (first, second, back)] == [
        (6, False),
        (6, False),
        (6, False),
    ]


@pytest.mark.parametrize("walk", [True, False], ids=["walking the scores", "looking them up"])
def test_a_search_by_score_pages_alike_however_the_scores_are_read(
    marketer, searched, walk, monkeypatch
):
    """By score, the page is found by walking the scores' index in order (many matches) or by
    looking up every match's score (few): leadcrm.paging.WALK_ENTRY_COST decides against the
    table's size, which ANALYZE records."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_leadscore")
    monkeypatch.setattr("leadcrm.paging.WALK_ENTRY_COST", 0 if walk else 10**6)
    client = api_as(marketer)

    first = client.get(API_URL, {"q": "schm", "ordering": "-behaviour_score", "page_size": 4})
    second = client.get(first.json()["next"]).json()
    back = client.get(second["previous"]).json()

    assert emails(first.json()["results"]) == BY_SCORE[:4]
    assert emails(second["results"]) == BY_SCORE[4:]
    assert emails(back["results"]) == BY_SCORE[:4]
    assert (second["count"], second["count_capped"]) == (6, False)


def test_a_lead_matching_several_ways_is_listed_and_counted_once(client, marketer, db):
    everywhere = LeadFactory(
        email="schmid@example.com",
        first_name="Schmuel",
        last_name="Schmid",
        company=CompanyFactory(name="Schmid AG"),
        created_at=at(2),
        behaviour_score=10.0,
    )
    by_company = LeadFactory(
        email="o@example.com",
        last_name="Otto",
        company=everywhere.company,
        created_at=at(1),
        behaviour_score=20.0,
    )
    LeadFactory(email="p@example.com", last_name="Peters", created_at=at(3))
    client.force_login(marketer)

    by_score = api_as(marketer).get(API_URL, {"q": "Schmi", "ordering": "-behaviour_score"})
    newest = api_as(marketer).get(API_URL, {"q": "schmi"}).json()
    page = client.get(PAGE_URL, {"q": "SCHMI"})

    assert [lead["id"] for lead in by_score.json()["results"]] == [by_company.pk, everywhere.pk]
    assert [lead["id"] for lead in newest["results"]] == [everywhere.pk, by_company.pk]
    assert (newest["count"], newest["count_capped"]) == (2, False)
    assert [lead.pk for lead in page.context["leads"]] == [everywhere.pk, by_company.pk]
    assert "2 leads" in page.content.decode()


def test_one_way_of_matching_broader_than_the_cap_caps_the_count(marketer, db, monkeypatch):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 2)
    for day in (1, 2, 3):
        LeadFactory(last_name=f"Schmid{day}", created_at=at(day))
    client = api_as(marketer)

    body = client.get(API_URL, {"q": "schmid", "page_size": 2}).json()
    following = client.get(body["next"]).json()

    assert (body["count"], body["count_capped"]) == (2, True)
    assert [lead["last_name"] for lead in body["results"] + following["results"]] == [
        "Schmid3",
        "Schmid2",
        "Schmid1",
    ]


def searching(queries) -> list[str]:
    """The statements that looked for leads by the search's name prefixes."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if '"leads_lead"' in query["sql"] and "LIKE" in query["sql"]
    ]


def test_the_api_reads_a_search_once_for_page_and_count(
    marketer, searched, django_assert_num_queries
):
    client = api_as(marketer)

    # the user's roles and permissions, the matches (count and the page's ids, the companies
    # named so among them), the page's leads by id
    with django_assert_num_queries(3) as queries:
        body = client.get(API_URL, {"q": "schm"}).json()

    assert emails(body["results"]) == NEWEST
    assert body["count"] == 6
    assert len(searching(queries)) == 1


def test_the_page_reads_a_search_once_for_page_and_count(
    client, marketer, searched, django_assert_max_num_queries
):
    client.force_login(marketer)

    with django_assert_max_num_queries(20) as queries:
        response = client.get(PAGE_URL, {"q": "schm", "sort": "score"})

    assert [lead.email for lead in response.context["leads"]] == BY_SCORE
    assert len(searching(queries)) == 1


def test_a_search_broader_than_the_cap_says_so_and_still_pages_in_order(
    marketer, searched, monkeypatch
):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 4)
    client = api_as(marketer)

    first = client.get(API_URL, {"q": "schm", "page_size": 4}).json()
    second = client.get(first["next"]).json()

    assert (first["count"], first["count_capped"]) == (4, True)
    assert emails(first["results"] + second["results"]) == NEWEST


def test_a_search_in_a_mixed_ordering_is_read_as_any_other_list(marketer, db):
    for day, score in [(1, 5.0), (2, 5.0), (3, 9.0)]:
        LeadFactory(last_name=f"Schmid{day}", created_at=at(day), behaviour_score=score)
    LeadFactory(last_name="Other", created_at=at(4), behaviour_score=1.0)
    client = api_as(marketer)

    body = client.get(API_URL, {"q": "schmid", "ordering": "-behaviour_score,created_at"}).json()

    assert [lead["last_name"] for lead in body["results"]] == ["Schmid3", "Schmid1", "Schmid2"]
    assert (body["count"], body["count_capped"]) == (3, False)


def test_a_sales_rep_searches_only_the_leads_they_may_see(sales_rep, other_rep, db):
    mine = LeadFactory(last_name="Schmidt", owner=sales_rep, stage=Stage.SQL)
    pool = LeadFactory(last_name="Schmitz", owner=None, stage=Stage.MQL)
    LeadFactory(last_name="Schmied", owner=other_rep, stage=Stage.SQL)

    body = api_as(sales_rep).get(API_URL, {"q": "schm"}).json()

    assert sorted(lead["id"] for lead in body["results"]) == sorted([mine.pk, pool.pk])
    assert body["count"] == 2


# Berger, Diaz, Otto, SCHMALZ, Schmidt, Schmitt: case-insensitive.
BY_NAME = ["b@example.com", "d@example.com", "schmo@example.com", "f@example.com"]
BY_NAME += ["e@example.com", "a@example.com"]


@pytest.mark.parametrize(
    ("sort", "expected"), [("newest", NEWEST), ("score", BY_SCORE), ("name", BY_NAME)]
)
def test_the_page_pages_through_a_search_in_order(marketer, searched, sort, expected):
    filterset = LeadFilter({"q": "schm"}, queryset=lead_visible_to(marketer))
    matching, arms = filterset.qs, filterset.search_arms()

    first = lead_page(leads=matching, sort=SORTS[sort], size=4, search=arms)
    second = lead_page(
        leads=matching, sort=SORTS[sort], cursor=first.next_cursor, size=4, search=arms
    )
    back = lead_page(
        leads=matching, sort=SORTS[sort], cursor=second.previous_cursor, size=4, search=arms
    )

    assert [lead.email for lead in first.leads] == expected[:4]
    assert [lead.email for lead in second.leads] == expected[4:]
    assert second.next_cursor is None
    assert [lead.email for lead in back.leads] == expected[:4]
    assert (first.count, first.capped, second.start, back.start) == (6, False, 5, 1)


def test_the_list_page_shows_a_search_sorted_by_score_with_its_count(client, marketer, searched):
    client.force_login(marketer)

    response = client.get(PAGE_URL, {"q": "schm", "sort": "score"})

    assert [lead.email for lead in response.context["leads"]] == BY_SCORE
    assert "6 leads" in response.content.decode()


def test_the_list_page_counts_a_search_broader_than_the_cap(
    client, marketer, searched, monkeypatch
):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 4)
    client.force_login(marketer)

    response = client.get(PAGE_URL, {"q": "schm"})

    assert [lead.email for lead in response.context["leads"]] == NEWEST
    assert "4+ leads" in response.content.decode()

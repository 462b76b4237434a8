"""The lead list API chooses a page's ids before it joins their companies and owners."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from leads.lifecycle import Stage
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_it_joins_companies_only_for_the_page_it_chose(sales_rep, django_assert_num_queries):
    expected = []
    for number, rank in enumerate(["C1", "A1", "B2", "A2"]):
        lead = LeadFactory(
            owner=sales_rep,
            stage=Stage.SQL,
            rank=rank,
            grade=rank[0],
            company=CompanyFactory(name=f"Firm {number}"),
        )
        expected.append((rank, lead.pk))
    client = APIClient()
    client.force_authenticate(sales_rep)

    # the user's roles and permissions, the page with its capped count
    with django_assert_num_queries(2) as queries:
        body = client.get(
            reverse("api-lead-list"),
            {"stage": "sql", "owner": sales_rep.pk, "ordering": "rank", "page_size": 2},
        ).json()

    assert [lead["id"] for lead in body["results"]] == [pk for _rank, pk in sorted(expected)[:2]]
    assert [lead["company"]["name"] for lead in body["results"]] == ["Firm 1", "Firm 3"]
    page_sql = queries.captured_queries[-1]["sql"]
    chosen = page_sql.split(' IN (SELECT U0."id"', 1)[1].split("LIMIT 3)", 1)[0]
    assert '"leads_company"' in page_sql
    assert '"leads_company"' not in chosen


def test_pages_by_score_go_on_from_the_score_rows_own_columns(marketer, django_assert_num_queries):
    # Three leads tie on 30 points: the score row's lead id orders them, highest first.
    scores = [30.0, 55.5, 30.0, 12.0, 30.0]
    leads = [LeadFactory(behaviour_score=score) for score in scores]
    expected = [
        lead.pk for lead in sorted(leads, key=lambda lead: (-scores[leads.index(lead)], -lead.pk))
    ]
    client = APIClient()
    client.force_authenticate(marketer)

    seen, url = [], reverse("api-lead-list") + "?ordering=-behaviour_score&page_size=2"
    while url:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        seen += [lead["id"] for lead in body["results"]]
        url = body["next"]

    assert seen == expected
    # The last page's cursor compares the score row's (score, lead id), the columns of its
    # index leadscore_score: a page deep in the list starts there instead of reading every
    # score above it (with the lead's own id the comparison spans two tables).
    page_sql = queries.captured_queries[-1]["sql"]
    assert '(U1."behaviour_score", U1."lead_id") <' in page_sql

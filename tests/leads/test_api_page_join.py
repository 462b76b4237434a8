"""The lead list API chooses a page's ids before it joins their companies and owners."""

import pytest
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

    # the user's roles and permissions, the capped count, the page
    with django_assert_num_queries(3) as queries:
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

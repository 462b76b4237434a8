"""The same figures from the API, the CSV downloads and the dashboard page, for the
hand-checked shop of conftest.py (March 2026); who may see what; constant query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import Channel
from reporting.rollup import rollup_refresh
from tests.factories import CampaignCostFactory, CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db
MARCH = "since=2026-03-01&until=2026-03-31"


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_api_csv_and_page_agree_on_the_channel_figures(client, shop, marketer):
    api = api_as(marketer).get(f"/api/v1/reports/channels/?{MARCH}")
    client.force_login(marketer)
    exported = client.get(reverse("reports:export", args=["channels"]) + f"?{MARCH}")
    page = client.get(reverse("reports:dashboard") + f"?{MARCH}")

    assert api.status_code == 200, api.content
    rows = api.json()["rows"]
    # Webinar first (ROI 200 %), then cold calls (-100 %), then the two without costs.
    assert [row["key"] for row in rows] == ["webinar", "cold_call", "ads", "seo"]
    webinar = rows[0]
    assert (webinar["leads"], webinar["customers"], webinar["cost"], webinar["cpl"]) == (
        3,
        1,
        "1000.00",
        "333.33",
    )
    assert (webinar["cpa"], webinar["gross_margin"], webinar["roi"]) == (
        "1000.00",
        "3000.00",
        "2.0000",
    )
    assert webinar["unqualified_mql"] == "0.6667"
    assert rows[1]["cpa"] is None
    assert rows[2]["roi"] is None
    # The CSV: the same columns and values, empty where the API says null.
    lines = _csv(exported)
    assert exported["Content-Type"].startswith("text/csv")
    assert [line["key"] for line in lines] == ["webinar", "cold_call", "ads", "seo"]
    for line, row in zip(lines, rows, strict=True):
        assert line == {key: "" if value is None else str(value) for key, value in row.items()}
    # The page: the same numbers, localised (English), a dash for what cannot be computed.
    html = page.content.decode()
    channel_table = html[html.index('id="channel-table"') :]
    channel_table = channel_table[: channel_table.index("</table>")]
    assert "333.33" in channel_table
    assert "1,000.00" in channel_table
    assert "200.0 %" in channel_table
    assert "-100.0 %" in channel_table
    assert "–" in channel_table


def test_the_funnel_overview_and_trend_endpoints(shop, marketer):
    client = api_as(marketer)
    funnel = client.get(f"/api/v1/reports/funnel/?{MARCH}").json()
    assert [(step["stage"], step["count"], step["conversion"]) for step in funnel["steps"]] == [
        ("unqualified", 7, None),
        ("mql", 4, "0.5714"),  # 4 / 7
        ("sql", 2, "0.5000"),
        ("opportunity", 1, "0.5000"),
        ("customer", 1, "1.0000"),
    ]
    overview = client.get(f"/api/v1/reports/overview/?{MARCH}").json()
    assert overview["previous_period"] == {"since": "2026-01-29", "until": "2026-02-28"}
    tiles = {tile["name"]: tile for tile in overview["tiles"]}
    assert (tiles["leads"]["value"], tiles["leads"]["previous"]) == ("7.0000", "1.0000")
    assert tiles["roi"]["value"] == "0.8750"
    trend = client.get(f"/api/v1/reports/trend/?{MARCH}&granularity=week").json()
    # Weeks from Monday: Mar 2 (L1, L2), Mar 9 (L3, L4 and L5 on Sunday the 15th), Mar 16
    # (L7 on the 20th, L8 on the 21st); costs on Mar 5 (B) and Mar 10 (A).
    assert [(row["key"], row["leads"], row["cost"]) for row in trend["rows"]] == [
        ("2026-03-02", 2, "600.00"),
        ("2026-03-09", 3, "1000.00"),
        ("2026-03-16", 2, "0.00"),
    ]
    campaigns = client.get(f"/api/v1/reports/campaigns/?{MARCH}&attribution=last").json()
    by_key = {row["key"]: row for row in campaigns["rows"]}
    assert by_key[str(shop.b.pk)]["roi"] == "4.0000"


def test_a_sales_rep_sees_only_their_own_figures(shop, client):
    rep = shop.rep
    api = api_as(rep).get(f"/api/v1/reports/overview/?{MARCH}&owner={shop.rep2.pk}").json()
    # Asked for another rep's figures, the rep gets their own: L1 only, and no costs.
    assert (api["current"]["leads"], api["current"]["customers"]) == (1, 1)
    assert api["current"]["cost"] is None
    assert api["current"]["roi"] is None
    client.force_login(rep)
    page = client.get(reverse("reports:dashboard") + f"?{MARCH}")
    assert page.status_code == 200
    assert 'name="owner"' not in page.content.decode()
    assert page.context["report"].owner_id == rep.pk


def test_users_without_a_role_get_403(client, no_role_user):
    assert api_as(no_role_user).get("/api/v1/reports/channels/").status_code == 403
    client.force_login(no_role_user)
    assert client.get(reverse("reports:dashboard")).status_code == 403
    assert client.get(reverse("campaigns:list")).status_code == 403


def test_bad_filters_are_400_naming_the_field(marketer):
    client = api_as(marketer)
    response = client.get("/api/v1/reports/channels/?since=2026-03-10&until=2026-03-01")
    assert response.status_code == 400
    assert "until" in response.json()
    assert client.get("/api/v1/reports/trend/?granularity=hour").status_code == 400
    assert client.get("/api/v1/reports/funnel/?channel=").status_code == 400
    # The day after the period and the period before must be dates too.
    assert (
        "since" in client.get("/api/v1/reports/overview/?since=0001-01-01&until=0001-01-02").json()
    )
    assert (
        "until" in client.get("/api/v1/reports/overview/?since=9999-12-30&until=9999-12-31").json()
    )


def test_an_unconvertible_currency_is_a_400_on_currency(shop, marketer, client):
    CampaignCostFactory(campaign=shop.a, amount=10, currency="GBP", incurred_on="2026-03-03")
    response = api_as(marketer).get(f"/api/v1/reports/channels/?{MARCH}")
    assert response.status_code == 400
    assert "GBP" in response.json()["currency"][0]
    client.force_login(marketer)
    page = client.get(reverse("reports:dashboard") + f"?{MARCH}")
    assert page.status_code == 400
    assert "GBP" in page.content.decode()


def _grow(count: int) -> None:
    for index in range(count):
        campaign = CampaignFactory(channel=[Channel.ADS, Channel.SEO, Channel.WEBINAR][index % 3])
        CampaignCostFactory(campaign=campaign, incurred_on="2026-03-04", amount=100)
        LeadFactory(created_at="2026-03-05T10:00:00+01:00", first_campaign=campaign)
    rollup_refresh()


def test_queries_do_not_grow_with_leads_or_campaigns(marketer, client, django_assert_num_queries):
    client.force_login(marketer)
    _grow(2)
    url = reverse("reports:dashboard") + f"?{MARCH}"
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(6)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    api = api_as(marketer)
    api.get(f"/api/v1/reports/campaigns/?{MARCH}")  # the user's roles, cached on it
    with CaptureQueriesContext(connection) as api_small:
        api.get(f"/api/v1/reports/campaigns/?{MARCH}")
    _grow(4)
    with django_assert_num_queries(len(api_small.captured_queries)):
        api.get(f"/api/v1/reports/campaigns/?{MARCH}")


def test_the_funnel_and_trend_csv_equal_the_api(client, shop, marketer):
    client.force_login(marketer)
    api = api_as(marketer)
    funnel = _csv(client.get(reverse("reports:export", args=["funnel"]) + f"?{MARCH}"))
    steps = api.get(f"/api/v1/reports/funnel/?{MARCH}").json()["steps"]
    assert [(line["stage"], line["count"], line["conversion"]) for line in funnel] == [
        ("unqualified", "7", ""),
        ("mql", "4", "0.5714"),
        ("sql", "2", "0.5000"),
        ("opportunity", "1", "0.5000"),
        ("customer", "1", "1.0000"),
    ]
    assert [line["median_days"] for line in funnel] == [
        "" if step["median_days"] is None else step["median_days"] for step in steps
    ]
    trend = _csv(client.get(reverse("reports:export", args=["trend"]) + f"?{MARCH}"))
    rows = api.get(f"/api/v1/reports/trend/?{MARCH}").json()["rows"]
    assert [line["key"] for line in trend] == ["2026-03-01"] == [row["key"] for row in rows]
    assert trend[0]["cpl"] == rows[0]["cpl"] == "228.57"  # 1,600 / 7

"""Campaign pages: create and edit, costs one-off or spread over a period, German amounts, CSV
import, budget vs spend, exchange rates; who may do what."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leads.models import Campaign, CampaignCost
from reporting import selectors, services
from reporting.models import ExchangeRate
from reporting.selectors import ReportFilter, kpi_total
from tests.factories import CampaignCostFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1.234.567", "1234567"),
        ("12,5", "12.50"),
        ("€ 300", "300"),
    ],
)
def test_amounts_are_read_in_english_and_german_format(text, expected):
    assert services.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3.4.5", "12.34.56,7"])
def test_nonsense_amounts_are_refused(text):
    with pytest.raises(ValidationError):
        services.parse_amount(text)


def test_a_cost_for_a_period_is_spread_over_its_months_by_days():
    parts = services.spread_cost(
        amount=Decimal("1000.00"), since=dt.date(2026, 1, 20), until=dt.date(2026, 3, 10)
    )
    # 50 days: 12 in January, 28 in February, 10 in March → 240, 560, 200.
    assert [(p.incurred_on, p.amount) for p in parts] == [
        (dt.date(2026, 1, 20), Decimal("240.00")),
        (dt.date(2026, 2, 1), Decimal("560.00")),
        (dt.date(2026, 3, 1), Decimal("200.00")),
    ]
    thirds = services.spread_cost(
        amount=Decimal("100.00"), since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31)
    )
    # 31 + 28 + 31 = 90 days: 34.44, 31.11 and the rest, 34.45, so the sum stays 100.00.
    assert [p.amount for p in thirds] == [Decimal("34.44"), Decimal("31.11"), Decimal("34.45")]


def test_a_marketer_creates_a_campaign_and_enters_a_german_amount(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:create"),
        {
            "name": "Webinar Herbst",
            "channel": "webinar",
            "direction": "inbound",
            "starts_on": "2026-09-01",
            "ends_on": "2026-10-31",
            "budget": "12.000,00",
            "budget_currency": "EUR",
        },
    )
    campaign = Campaign.objects.get(name="Webinar Herbst")
    assert response.status_code == 302
    assert campaign.budget == Decimal("12000.00")

    client.post(
        reverse("campaigns:cost-add", args=[campaign.pk]),
        {"incurred_on": "2026-09-15", "until": "2026-10-14", "amount": "3.000", "currency": "EUR"},
    )
    # 30 days: 16 in September, 14 in October.
    assert list(
        CampaignCost.objects.filter(campaign=campaign)
        .order_by("incurred_on")
        .values_list("incurred_on", "amount")
    ) == [(dt.date(2026, 9, 15), Decimal("1600.00")), (dt.date(2026, 10, 1), Decimal("1400.00"))]
    page = client.get(reverse("campaigns:list"))
    assert "25.0 %" in page.content.decode()  # 3,000 of 12,000


def test_bad_campaign_input_names_the_field(client, marketer):
    CampaignFactory(name="Taken")
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:create"),
        {
            "name": "taken",
            "channel": "webinar",
            "direction": "inbound",
            "starts_on": "2026-09-02",
            "ends_on": "2026-09-01",
            "budget": "",
            "budget_currency": "EUR",
        },
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"ends_on"}


def test_costs_are_imported_from_csv_all_or_nothing(client, marketer):
    webinar = CampaignFactory(name="Webinar")
    ads = CampaignFactory(name="Ads")
    client.force_login(marketer)
    good = (
        "campaign;date;amount;currency;note\n"
        "Webinar;31.03.2026;1.234,56;EUR;Agentur\n"
        f"{ads.pk};2026-04-01;99.5;USD;\n"
    )
    bad = "campaign,date,amount\nWebinar,2026-04-01,12\nNobody,2026-04-02,x\n"

    refused = client.post(
        reverse("campaigns:cost-import", args=[webinar.pk]),
        {"file": SimpleUploadedFile("bad.csv", bad.encode())},
    )
    assert refused.status_code == 400
    assert "Line 3" in refused.content.decode()
    assert CampaignCost.objects.count() == 0
    client.post(
        reverse("campaigns:cost-import", args=[webinar.pk]),
        {"file": SimpleUploadedFile("costs.csv", good.encode())},
    )
    assert sorted(CampaignCost.objects.values_list("campaign__name", "amount", "currency")) == [
        ("Ads", Decimal("99.50"), "USD"),
        ("Webinar", Decimal("1234.56"), "EUR"),
    ]


def test_budget_vs_spend_converts_by_rate(db):
    campaign = CampaignFactory(budget=Decimal(1000))
    CampaignCostFactory(campaign=campaign, amount=Decimal(500))
    CampaignCostFactory(campaign=campaign, amount=Decimal(1000), currency="USD")
    with pytest.raises(ValidationError):
        selectors.campaign_spend(campaign_id=campaign.pk)
    services.exchange_rate_set(currency="usd", rate=Decimal("0.9"))
    spend = selectors.campaign_spend(campaign_id=campaign.pk)
    assert (spend.spent, spend.share, spend.over) == (Decimal("1400.00"), Decimal("1.4"), True)


def test_a_budget_in_another_currency_is_compared_at_its_rate(db, client, marketer):
    campaign = CampaignFactory(name="Swiss fair", budget=Decimal(1000), budget_currency="CHF")
    CampaignCostFactory(campaign=campaign, amount=Decimal(525))  # EUR
    # No rate for CHF yet: the share is unknown (shown as a dash), never 525 of 1,000 francs.
    assert selectors.campaign_spend(campaign_id=campaign.pk).share is None

    services.exchange_rate_set(currency="CHF", rate=Decimal("1.05"))

    # 1,000 CHF at 1.05 = 1,050 EUR; 525 / 1,050 = 50 %
    spend = selectors.campaign_spend(campaign_id=campaign.pk)
    assert (spend.budget_converted, spend.share, spend.over) == (
        Decimal("1050.00"),
        Decimal("0.5"),
        False,
    )
    client.force_login(marketer)
    row = client.get(reverse("campaigns:list")).content.decode().split("Swiss fair")[1]
    assert "50.0 %" in row.split("</tr>")[0]  # the list shows the same share


def test_exchange_rates_page(client, marketer, sales_manager):
    client.force_login(marketer)
    CampaignCostFactory(amount=1, currency="CHF")
    page = client.get(reverse("campaigns:rates"))
    assert "Reports need a rate for: CHF." in page.content.decode()
    client.post(reverse("campaigns:rates"), {"currency": "CHF", "rate": "1.05"})
    assert ExchangeRate.objects.get(currency="CHF").rate == Decimal("1.05")
    client.force_login(sales_manager)
    assert (
        client.post(reverse("campaigns:rates"), {"currency": "CHF", "rate": "2"}).status_code == 403
    )


def test_who_may_manage_campaigns(client, sales_manager, sales_rep):
    campaign = CampaignFactory()
    client.force_login(sales_manager)
    assert client.get(reverse("campaigns:list")).status_code == 200
    assert client.get(reverse("campaigns:create")).status_code == 403
    client.force_login(sales_rep)
    assert client.get(reverse("campaigns:list")).status_code == 403
    assert client.get(reverse("campaigns:costs", args=[campaign.pk])).status_code == 403


def test_the_campaign_list_has_constant_queries(client, marketer, django_assert_num_queries):
    client.force_login(marketer)
    for _ in range(2):
        CampaignCostFactory()
    client.get(reverse("campaigns:list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("campaigns:list"))
    for _ in range(5):
        CampaignCostFactory()
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("campaigns:list"))


def test_costs_convert_at_the_rate_of_their_day_and_budgets_at_the_start(db):
    services.exchange_rate_set(currency="USD", rate=Decimal("0.9"), valid_from=dt.date(2026, 1, 1))
    services.exchange_rate_set(currency="USD", rate=Decimal("0.8"), valid_from=dt.date(2026, 3, 1))
    campaign = CampaignFactory(
        starts_on=dt.date(2026, 2, 10), budget=Decimal(1000), budget_currency="USD"
    )
    for day in [(2025, 12, 15), (2026, 2, 28), (2026, 3, 1), (2026, 4, 10)]:
        CampaignCostFactory(
            campaign=campaign, amount=Decimal(100), currency="USD", incurred_on=dt.date(*day)
        )
    later = CampaignFactory(
        starts_on=dt.date(2026, 3, 5), budget=Decimal(1000), budget_currency="USD"
    )
    undated = CampaignFactory(budget=Decimal(1000), budget_currency="USD")

    # Before the first rate its rate (0.9), February 0.9, from March 1 on 0.8:
    # 90 + 90 + 80 + 80 = 340; the budget at its start (Feb 10): 1,000 x 0.9 = 900.
    spend = selectors.campaign_spend(campaign_id=campaign.pk)
    assert (spend.spent, spend.budget_converted) == (Decimal("340.00"), Decimal("900.00"))
    assert selectors.campaign_spend(campaign_id=later.pk).budget_converted == Decimal("800.00")
    # Without a start: today's rate (the latest, 0.8).
    assert selectors.campaign_spend(campaign_id=undated.pk).budget_converted == Decimal("800.00")
    # A report sums the costs of its period at their own days' rates.
    february = ReportFilter(since=dt.date(2026, 2, 1), until=dt.date(2026, 2, 28))
    spring = ReportFilter(since=dt.date(2026, 2, 1), until=dt.date(2026, 4, 30))
    assert kpi_total(february).cost == Decimal("90.00")
    assert kpi_total(spring).cost == Decimal("250.00")  # 90 + 80 + 80


def test_a_rate_of_the_same_day_is_replaced_and_the_page_shows_the_history(
    client, marketer, django_assert_num_queries
):
    services.exchange_rate_set(currency="USD", rate=Decimal("0.9"), valid_from=dt.date(2026, 1, 1))
    services.exchange_rate_set(currency="USD", rate=Decimal("0.95"), valid_from=dt.date(2026, 1, 1))
    client.force_login(marketer)
    client.post(
        reverse("campaigns:rates"), {"currency": "usd", "rate": "0.8", "valid_from": "2026-03-01"}
    )

    assert list(ExchangeRate.objects.order_by("valid_from").values_list("valid_from", "rate")) == [
        (dt.date(2026, 1, 1), Decimal("0.95")),
        (dt.date(2026, 3, 1), Decimal("0.8")),
    ]
    page = client.get(reverse("campaigns:rates")).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
    assert len(rows) == 2
    assert [("03/01/2026" in row, "current" in row, "0.800000" in row) for row in rows] == [
        (True, True, True),
        (False, False, False),
    ]
    assert [("01/01/2026" in row, "0.950000" in row) for row in rows] == [
        (False, False),
        (True, True),
    ]
    # Without a date the rate counts from today.
    client.post(reverse("campaigns:rates"), {"currency": "CHF", "rate": "1.05"})
    assert ExchangeRate.objects.get(currency="CHF").valid_from == timezone.localdate()
    # The history is one query, however long.
    with django_assert_num_queries(1):
        list(selectors.exchange_rates())

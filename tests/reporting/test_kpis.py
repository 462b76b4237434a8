"""KPI formulas on the hand-checked shop of conftest.py: every expected figure is worked out by
hand in the comments, never taken from the code under test."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads import event_services
from leads.event_services import EventRow
from leads.lifecycle import Stage
from leads.models import Channel, Opportunity
from reporting.models import ExchangeRate
from reporting.rollup import rollup_refresh
from reporting.selectors import GroupBy, kpi_rows, kpi_table, kpi_total, overview
from tests.factories import CampaignCostFactory, LeadFactory, OpportunityFactory
from tests.reporting.conftest import MARCH, at

pytestmark = pytest.mark.django_db
DAY = 86400.0


def by_key(rows):
    return {row.key: row for row in rows}


def test_it_counts_the_march_cohort_by_first_touch(shop):
    rows = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))

    a, b, c, none = rows[shop.a.pk], rows[shop.b.pk], rows[shop.c.pk], rows[None]
    # A: L1, L2, L3; L1 and L2 reached MQL; L1 went all the way (margin 3,000).
    assert (a.leads, a.mqls, a.sqls, a.opportunities, a.customers) == (3, 2, 1, 1, 1)
    assert (a.cost, a.gross_margin) == (Decimal("1000.00"), Decimal("3000.00"))
    assert a.cpl == Decimal(1000) / Decimal(3)
    assert a.cpa == Decimal(1000)
    assert a.roi == Decimal(2)  # (3,000 - 1,000) / 1,000
    assert a.conversions == {
        "unqualified_mql": Decimal(2) / Decimal(3),
        "mql_sql": Decimal("0.5"),
        "sql_opportunity": Decimal(1),
        "opportunity_customer": Decimal(1),
    }
    # L4 and L5 (imported as SQL, so it passed MQL too); nobody became a customer.
    assert (b.leads, b.mqls, b.sqls, b.opportunities, b.customers) == (2, 2, 1, 0, 0)
    assert b.cpl == Decimal(300)
    assert b.cpa is None  # 600 / 0 customers: "-"
    assert b.roi == Decimal(-1)  # (0 - 600) / 600
    # C: one lead, no cost: CPL 0, ROI undefined.
    assert (c.leads, c.cost, c.cpl, c.roi, c.cpa) == (1, Decimal(0), Decimal(0), None, None)
    assert (none.label, none.leads) == ("No campaign", 1)
    assert a.label == "A webinar"


def test_it_takes_the_median_time_in_each_stage(shop):
    a = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))[shop.a.pk]
    b = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))[shop.b.pk]

    # Unqualified: L1 one day, L2 two days → 1.5 days. MQL: L1 Mar 3 → Mar 5. SQL: Mar 5 → 6.
    # Opportunity: Mar 6 → Mar 10.
    assert a.median_seconds == {
        "unqualified": 1.5 * DAY,
        "mql": 2 * DAY,
        "sql": 1 * DAY,
        "opportunity": 4 * DAY,
    }
    # L4 one day unqualified; nobody in B moved on from MQL (L5 never was one).
    assert b.median_seconds == {"unqualified": DAY, "mql": None, "sql": None, "opportunity": None}


def test_it_adds_everything_up_and_compares_with_the_previous_period(shop):
    total = kpi_total(MARCH)
    # L1 L2 L3 L4 L5 L7 L8; MQL: L1 L2 L4 L5; SQL: L1 L5.
    assert (total.leads, total.mqls, total.sqls, total.opportunities, total.customers) == (
        7,
        4,
        2,
        1,
        1,
    )
    assert total.cost == Decimal("1600.00")
    assert total.roi == Decimal("0.875")  # (3,000 - 1,600) / 1,600

    tiles = {tile.name: tile for tile in overview(MARCH).tiles}
    # The 31 days before: Jan 29 - Feb 28: L6 (customer, margin 2,000), A's 500 of cost.
    assert (tiles["leads"].value, tiles["leads"].previous, tiles["leads"].change) == (7, 1, 6)
    assert tiles["roi"].previous == Decimal(3)  # (2,000 - 500) / 500
    assert tiles["cpa"].previous == Decimal(500)


def test_last_touch_moves_the_customer_to_the_last_campaign(shop):
    rows = by_key(kpi_rows(replace(MARCH, attribution="last"), group_by=GroupBy.CAMPAIGN))

    a, b = rows[shop.a.pk], rows[shop.b.pk]
    # Last touch A: L2, L3, L4. B: L1 (the customer) and L5.
    assert (a.leads, a.mqls, a.sqls, a.customers, a.gross_margin) == (3, 2, 0, 0, Decimal(0))
    assert (b.leads, b.mqls, b.sqls, b.customers) == (2, 2, 2, 1)
    assert b.roi == Decimal(4)  # (3,000 - 600) / 600
    assert a.roi == Decimal(-1)


def test_it_groups_by_channel_and_direction(shop):
    channels = by_key(kpi_rows(MARCH, group_by=GroupBy.CHANNEL))
    assert {key: row.leads for key, row in channels.items()} == {
        Channel.WEBINAR: 3,
        Channel.COLD_CALL: 2,
        Channel.ADS: 1,
        Channel.SEO: 1,
    }
    assert channels[Channel.SEO].cost == Decimal(0)
    assert channels[Channel.WEBINAR].label == "Webinar"
    directions = by_key(kpi_rows(MARCH, group_by=GroupBy.DIRECTION))
    assert {key: (row.leads, row.cost) for key, row in directions.items()} == {
        "inbound": (4, Decimal("1000.00")),
        "outbound": (2, Decimal("600.00")),
        "none": (1, Decimal(0)),
    }


def test_the_channel_table_sorts_by_roi_with_the_undefined_last(shop):
    rows = kpi_table(MARCH, group_by=GroupBy.CHANNEL)
    # Webinar ROI 2, cold calls -1; ads and SEO cost nothing: no ROI, alphabetical.
    assert [row.key for row in rows] == [
        Channel.WEBINAR,
        Channel.COLD_CALL,
        Channel.ADS,
        Channel.SEO,
    ]
    ascending = kpi_table(MARCH, group_by=GroupBy.CHANNEL, sort="cpl", descending=False)
    assert [row.key for row in ascending][:3] == [Channel.ADS, Channel.SEO, Channel.COLD_CALL]


def test_filters_narrow_the_cohort(shop):
    assert kpi_total(replace(MARCH, channel=Channel.COLD_CALL)).leads == 2
    assert kpi_total(replace(MARCH, direction="inbound")).leads == 4
    assert kpi_total(replace(MARCH, campaign_id=shop.a.pk)).cost == Decimal("1000.00")


def test_an_owner_filter_counts_their_leads_and_shows_no_costs(shop):
    mine = kpi_total(replace(MARCH, owner_id=shop.rep.pk))
    # The rep owns L1 (March) and L6 (February).
    assert (mine.leads, mine.customers, mine.gross_margin) == (1, 1, Decimal("3000.00"))
    assert (mine.cost, mine.cpl, mine.roi, mine.visitors) == (None, None, None, None)


def test_a_cost_in_another_currency_without_a_rate_is_refused(shop):
    CampaignCostFactory(
        campaign=shop.b, incurred_on=dt.date(2026, 3, 7), amount=Decimal(100), currency="USD"
    )
    with pytest.raises(ValidationError) as raised:
        kpi_total(MARCH)
    assert "USD" in str(raised.value.message_dict["currency"])

    ExchangeRate.objects.create(currency="USD", rate=Decimal("0.9"))
    b = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))[shop.b.pk]
    assert b.cost == Decimal("690.00")  # 600 EUR + 100 USD x 0.9


def test_a_margin_in_another_currency_is_converted_by_the_rate_table(shop):
    lead = shop.leads["L5"]
    lead.stage = Stage.CUSTOMER
    lead.save()
    OpportunityFactory(
        lead=lead,
        owner=shop.rep2,
        currency="CHF",
        status=Opportunity.Status.WON,
        gross_margin=Decimal(1000),
        closed_at=at(3, 20),
    )
    rollup_refresh()
    with pytest.raises(ValidationError):
        kpi_total(MARCH)
    ExchangeRate.objects.create(currency="CHF", rate=Decimal("1.05"))
    assert kpi_total(MARCH).gross_margin == Decimal("4050.00")  # 3,000 + 1,000 x 1.05


def test_zero_everything_gives_dashes_not_errors(db):
    empty = kpi_total(MARCH)
    assert (empty.leads, empty.cost, empty.cpl, empty.cpa, empty.roi) == (
        0,
        Decimal(0),
        None,
        None,
        None,
    )
    assert empty.conversions["unqualified_mql"] is None
    assert empty.visitor_to_lead is None


def visit(visitor_id: str, campaign, when: dt.datetime) -> None:
    event_services.events_record_bulk(
        events=[
            EventRow(
                kind="page_view",
                visitor_id=visitor_id,
                url="https://www.example.com/",
                campaign_id=campaign.pk if campaign else None,
                occurred_at=when,
            )
        ]
    )


def test_visitors_count_for_the_campaign_of_the_attribution(shop):
    visit("visitor-one-000001", shop.a, at(3, 2))  # first A, later B; identifies itself
    visit("visitor-one-000001", shop.b, at(3, 9))
    event_services.visitor_link(visitor_id="visitor-one-000001", lead_id=LeadFactory().pk)
    visit("visitor-two-000002", shop.a, at(3, 3))  # A only
    visit("visitor-three-0003", shop.b, at(3, 4))  # B, then a hit without a campaign
    visit("visitor-three-0003", None, at(3, 5))
    visit("visitor-four-00004", shop.a, at(2, 20))  # first seen in February: not in March
    visit("visitor-four-00004", shop.b, at(3, 10))

    first = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))
    last = by_key(kpi_rows(replace(MARCH, attribution="last"), group_by=GroupBy.CAMPAIGN))

    # First touch: A has one and two, one of them identified; B has three.
    assert (first[shop.a.pk].visitors, first[shop.a.pk].identified_visitors) == (2, 1)
    assert first[shop.a.pk].visitor_to_lead == Decimal("0.5")
    assert (first[shop.b.pk].visitors, first[shop.b.pk].visitor_to_lead) == (1, Decimal(0))
    # Last touch: one moved to B with its identification.
    assert (last[shop.a.pk].visitors, last[shop.a.pk].visitor_to_lead) == (1, Decimal(0))
    assert (last[shop.b.pk].visitors, last[shop.b.pk].identified_visitors) == (2, 1)
    assert last[shop.b.pk].visitor_to_lead == Decimal("0.5")
    # Channels and a campaign filter follow the attribution too; the total does not change.
    channels = by_key(kpi_rows(replace(MARCH, attribution="last"), group_by=GroupBy.CHANNEL))
    assert (channels[Channel.WEBINAR].visitors, channels[Channel.COLD_CALL].visitors) == (1, 2)
    only_b = replace(MARCH, attribution="last", campaign_id=shop.b.pk)
    assert kpi_total(only_b).visitors == 2
    assert kpi_total(replace(MARCH, campaign_id=shop.b.pk)).visitors == 1
    assert kpi_total(MARCH).visitors == kpi_total(replace(MARCH, attribution="last")).visitors == 3


def test_margins_convert_at_todays_rate_in_the_rollup_and_live(shop):
    lead = shop.leads["L5"]
    lead.stage = Stage.CUSTOMER
    lead.owner = shop.rep2
    lead.save()
    OpportunityFactory(
        lead=lead,
        owner=shop.rep2,
        currency="CHF",
        status=Opportunity.Status.WON,
        gross_margin=Decimal(1000),
        closed_at=at(3, 20),
    )
    # An older rate and today's: margins take today's, counted once.
    ExchangeRate.objects.create(
        currency="CHF", rate=Decimal("1.00"), valid_from=dt.date(2026, 1, 1)
    )
    ExchangeRate.objects.create(
        currency="CHF", rate=Decimal("1.05"), valid_from=timezone.localdate()
    )
    rollup_refresh()

    assert kpi_total(MARCH).gross_margin == Decimal("4050.00")  # 3,000 + 1,000 x 1.05
    assert kpi_total(replace(MARCH, owner_id=shop.rep2.pk)).gross_margin == Decimal("1050.00")

"""Period buckets are local (Europe/Berlin) days, weeks, months and quarters, also across the
daylight-saving changes (2026: summer time from Sunday March 29, back on Sunday October 25)."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from reporting.rollup import rollup_refresh
from reporting.selectors import GroupBy, ReportFilter, kpi_rows, kpi_total
from tests.factories import CampaignCostFactory, CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _leads(*moments):
    for moment in moments:
        LeadFactory(created_at=moment)
    rollup_refresh()  # what the beat task does every minute


def test_months_start_at_local_midnight_in_winter_and_summer(db):
    _leads(
        utc(2026, 2, 28, 23, 30),  # March 1, 00:30 CET → March
        utc(2026, 3, 31, 21, 30),  # March 31, 23:30 CEST → March
        utc(2026, 3, 31, 22, 30),  # April 1, 00:30 CEST → April
        utc(2026, 10, 31, 22, 30),  # October 31, 23:30 CET (summer time over) → October
        utc(2026, 10, 31, 23, 30),  # November 1, 00:30 CET → November
    )
    year = ReportFilter(since=dt.date(2026, 1, 1), until=dt.date(2026, 12, 31))

    rows = kpi_rows(year, group_by=GroupBy.PERIOD)

    assert {row.key: row.leads for row in rows} == {
        dt.date(2026, 3, 1): 2,
        dt.date(2026, 4, 1): 1,
        dt.date(2026, 10, 1): 1,
        dt.date(2026, 11, 1): 1,
    }
    march = ReportFilter(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))
    assert kpi_total(march).leads == 2


def test_weeks_start_on_local_monday_across_the_clock_change(db):
    _leads(
        utc(2026, 3, 29, 21, 30),  # Sunday March 29, 23:30 CEST → week of March 23
        utc(2026, 3, 29, 22, 30),  # Monday March 30, 00:30 CEST → week of March 30
        utc(2026, 3, 22, 23, 30),  # Monday March 23, 00:30 CET → week of March 23
    )
    report = ReportFilter(since=dt.date(2026, 3, 16), until=dt.date(2026, 4, 5), granularity="week")
    rows = kpi_rows(report, group_by=GroupBy.PERIOD)
    assert {row.key: row.leads for row in rows} == {
        dt.date(2026, 3, 23): 2,
        dt.date(2026, 3, 30): 1,
    }


def test_quarters_and_days_and_costs_in_the_same_buckets(db):
    campaign = CampaignFactory()
    LeadFactory(created_at=utc(2026, 6, 30, 21, 59), first_campaign=campaign)  # Jun 30 23:59
    LeadFactory(created_at=utc(2026, 6, 30, 22, 0), first_campaign=campaign)  # Jul 1 00:00
    CampaignCostFactory(campaign=campaign, incurred_on=dt.date(2026, 6, 30), amount=300)
    CampaignCostFactory(campaign=campaign, incurred_on=dt.date(2026, 7, 1), amount=200)
    rollup_refresh()
    year = ReportFilter(
        since=dt.date(2026, 1, 1), until=dt.date(2026, 12, 31), granularity="quarter"
    )
    quarters = {row.key: (row.leads, row.cost) for row in kpi_rows(year, group_by="period")}
    assert quarters == {
        dt.date(2026, 4, 1): (1, Decimal("300.00")),
        dt.date(2026, 7, 1): (1, Decimal("200.00")),
    }
    days = replace(year, granularity="day")
    assert {row.key: row.cpl for row in kpi_rows(days, group_by="period")} == {
        dt.date(2026, 6, 30): Decimal(300),
        dt.date(2026, 7, 1): Decimal(200),
    }

"""The rollup the reports read (reporting.rollup.rollup_refresh): what a change does after the
next refresh, whole-day medians, two refreshes at once, the beat task and the "as of" line.
Expected figures are worked out by hand from the shop of conftest.py (March 2026, first touch:
A has L1 L2 L3, B has L4 L5, C has L8, no campaign L7 with source channel SEO)."""

import datetime as dt
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Channel, Lead, Opportunity
from reporting import tasks
from reporting.models import FunnelDay, MarginDay, RollupState, StayDay
from reporting.rollup import ROLLUP_LOCK, rollup_refresh
from reporting.selectors import GroupBy, ReportFilter, kpi_rows, kpi_total
from sales import pipeline
from tests.factories import LeadFactory, OpportunityFactory, StageTransitionFactory
from tests.reporting.conftest import MARCH, at
from tests.reporting.test_api_and_pages import api_as

DAY = 86400.0


def by_key(rows):
    return {row.key: row for row in rows}


def funnel(row):
    return (row.leads, row.mqls, row.sqls, row.opportunities, row.customers)


def snapshot() -> list[tuple]:
    rows = []
    for model, fields in [
        (FunnelDay, ["leads", "mqls", "sqls", "opportunities", "customers"]),
        (StayDay, ["stage", "days", "leads"]),
        (MarginDay, ["currency", "gross_margin"]),
    ]:
        rows += [
            (model.__name__, *values)
            for values in model.objects.values_list(
                "day", "attribution", "campaign_id", "channel", *fields
            )
        ]
    return sorted(rows, key=repr)


@pytest.mark.django_db
def test_changes_show_after_the_next_refresh_and_not_before(shop):
    rep2 = shop.rep2
    # L3 (A, unqualified) becomes an MQL.
    lead_services.lead_transition(lead_id=shop.leads["L3"].pk, to_stage=Stage.MQL, by_rule="t")
    # L5 (B, SQL) gets an opportunity and wins it: 2,000 margin.
    lead_services.lead_transition(
        lead_id=shop.leads["L5"].pk, to_stage=Stage.OPPORTUNITY, by_user=rep2
    )
    deal = OpportunityFactory(lead=shop.leads["L5"], owner=rep2, status=Opportunity.Status.OPEN)
    pipeline.opportunity_win(
        opportunity_id=deal.pk, by_user=rep2, amount=Decimal(5000), gross_margin=Decimal(2000)
    )
    # L8's first campaign is corrected from C to B; L7 (no campaign) came by referral.
    lead_services.lead_update(lead_id=shop.leads["L8"].pk, by_user=None, first_campaign=shop.b)
    lead_services.lead_update(
        lead_id=shop.leads["L7"].pk, by_user=None, source_channel=Channel.REFERRAL
    )
    # A new lead today.
    lead_services.lead_create(
        created_by=None, email="new@example.com", first_name="New", last_name="Lead"
    )
    today = timezone.localdate()
    today_report = ReportFilter(since=today, until=today)

    # Before the refresh the figures are those of the last one.
    rows = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))
    assert funnel(rows[shop.a.pk]) == (3, 2, 1, 1, 1)
    assert funnel(rows[shop.b.pk]) == (2, 2, 1, 0, 0)
    assert kpi_total(today_report).leads == 0

    result = rollup_refresh()

    assert not result.full
    rows = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))
    assert funnel(rows[shop.a.pk]) == (3, 3, 1, 1, 1)  # L3 reached MQL
    # B: L4, L5 and now L8; L5 reached opportunity and customer with 2,000 margin.
    assert funnel(rows[shop.b.pk]) == (3, 2, 1, 1, 1)
    assert rows[shop.b.pk].gross_margin == Decimal("2000.00")
    assert shop.c.pk not in rows or rows[shop.c.pk].leads == 0
    channels = by_key(kpi_rows(MARCH, group_by=GroupBy.CHANNEL))
    assert Channel.SEO not in channels
    assert channels[Channel.REFERRAL].leads == 1
    assert kpi_total(today_report).leads == 1
    # L3: created Mar 9 10:00, MQL now; the others' MQL dates are unchanged. A's unqualified
    # stays: L1 1 day, L2 2 days, L3 from Mar 9 to today (at least 250 days) → median 2 days.
    assert rows[shop.a.pk].median_seconds["unqualified"] == 2 * DAY


@pytest.mark.django_db
def test_a_campaign_edit_shows_at_once_and_a_deleted_lead_after_a_full_rebuild(shop):
    shop.c.channel = Channel.WEBINAR
    shop.c.save()
    # No refresh: the rollup keeps the campaign, the channel is read from it now.
    assert by_key(kpi_rows(MARCH, group_by=GroupBy.CHANNEL))[Channel.WEBINAR].leads == 4

    lead_services.lead_delete(lead_id=shop.leads["L2"].pk, by_user=None)
    result = rollup_refresh()

    assert result.full  # a deleted lead's day is gone with it
    a = by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))[shop.a.pk]
    assert funnel(a) == (2, 1, 1, 1, 1)  # L1 and L3


@pytest.mark.django_db
def test_medians_are_whole_days_in_the_rollup_and_live(db, sales_rep):
    # X: created Mar 2 10:00, MQL Mar 3 22:00 (36 hours: 1 whole day).
    # Y: created Mar 2 10:00, MQL Mar 5 16:00 (3 days 6 hours: 3 whole days).
    # Z: created Mar 2 10:00, MQL Mar 2 20:00 (10 hours: 0 days), SQL Mar 9 21:00 (7 days).
    moves = {
        "x": [(Stage.MQL, at(3, 3, 22))],
        "y": [(Stage.MQL, at(3, 5, 16))],
        "z": [(Stage.MQL, at(3, 2, 20)), (Stage.SQL, at(3, 9, 21))],
    }
    for name, path in moves.items():
        lead = LeadFactory(
            email=f"{name}@example.com", created_at=at(3, 2), stage=path[-1][0], owner=sales_rep
        )
        for stage, when in path:
            StageTransitionFactory(lead=lead, to_stage=stage, at=when)
    rollup_refresh()

    # Unqualified: 0, 1, 3 days → 1 day. MQL: Z only, 7 days.
    expected = {"unqualified": DAY, "mql": 7 * DAY, "sql": None, "opportunity": None}
    assert kpi_total(MARCH).median_seconds == expected
    # The owner filter is computed live over the rep's leads, in the same whole days.
    assert kpi_total(replace(MARCH, owner_id=sales_rep.pk)).median_seconds == expected

    LeadFactory(email="w@example.com", created_at=at(3, 2), owner=sales_rep)
    StageTransitionFactory(lead=LeadFactory(created_at=at(3, 2)), to_stage=Stage.MQL, at=at(3, 7))
    rollup_refresh()
    # Unqualified: 0, 1, 3 and 5 days (the last lead) → (1 + 3) / 2 = 2 days.
    assert kpi_total(MARCH).median_seconds["unqualified"] == 2 * DAY


@pytest.mark.django_db
def test_medians_over_whole_months_and_the_days_around_them(db):
    # March (a whole month, read from the monthly histogram): 0, 1 and 3 days unqualified.
    # February 27 and April 2 (single days): 10 and 20 days.
    for created, moved in [
        (at(3, 2), at(3, 2, 20)),
        (at(3, 2), at(3, 3, 22)),
        (at(3, 2), at(3, 5, 16)),
        (at(2, 27), at(3, 9, 11)),
        (at(4, 2), at(4, 22, 12)),
    ]:
        StageTransitionFactory(
            lead=LeadFactory(created_at=created, stage=Stage.MQL), to_stage=Stage.MQL, at=moved
        )
    rollup_refresh()

    def median(since, until, **changes):
        report = ReportFilter(since=since, until=until, **changes)
        return kpi_total(report).median_seconds["unqualified"]

    assert median(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == DAY  # 0, 1, 3
    # Feb 27 to Apr 2: 0, 1, 3, 10, 20 → 3 days.
    assert median(dt.date(2026, 2, 27), dt.date(2026, 4, 2)) == 3 * DAY
    # Feb 27 to Mar 31: 0, 1, 3, 10 → (1 + 3) / 2 = 2 days.
    assert median(dt.date(2026, 2, 27), dt.date(2026, 3, 31)) == 2 * DAY
    # By week (days only): the week of Feb 23 has the Feb 27 lead, that of Mar 2 the three.
    weeks = by_key(
        kpi_rows(
            ReportFilter(since=dt.date(2026, 2, 23), until=dt.date(2026, 3, 8), granularity="week"),
            group_by=GroupBy.PERIOD,
        )
    )
    assert weeks[dt.date(2026, 2, 23)].median_seconds["unqualified"] == 10 * DAY
    assert weeks[dt.date(2026, 3, 2)].median_seconds["unqualified"] == DAY


@pytest.mark.django_db
def test_a_second_refresh_rewrites_the_same_rows(shop):
    first = snapshot()
    assert len(first) > 0
    rollup_refresh()
    assert snapshot() == first
    rollup_refresh(full=True)
    assert snapshot() == first


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_give_the_rows_of_one(shop):
    rollup_refresh(full=True)
    expected = snapshot()
    FunnelDay.objects.all().delete()
    RollupState.objects.all().delete()
    start = threading.Barrier(2)
    results, errors = [], []

    def refresh() -> None:
        try:
            start.wait()
            results.append(rollup_refresh(full=True))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    assert all(result is not None for result in results)
    assert snapshot() == expected
    assert RollupState.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_skips_while_another_refresh_runs(shop):
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert held.wait(timeout=10)
        assert rollup_refresh(wait=False) is None
    finally:
        release.set()
        thread.join(timeout=30)
    assert rollup_refresh(wait=False) is not None


@pytest.mark.django_db
def test_the_beat_task_refreshes_every_minute(shop):
    entry = settings.CELERY_BEAT_SCHEDULE["reporting-rollup-refresh"]
    assert (entry["task"], entry["schedule"]) == ("reporting.tasks.rollup_refresh", 60.0)
    LeadFactory(created_at=at(3, 30), first_campaign=shop.c)
    before = RollupState.objects.get().as_of

    tasks.rollup_refresh()

    assert RollupState.objects.get().as_of > before
    assert by_key(kpi_rows(MARCH, group_by=GroupBy.CAMPAIGN))[shop.c.pk].leads == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("as_of", "language", "expected"),
    [
        # 13:05 UTC is 14:05 in Berlin in winter, 12:00 UTC 14:00 in summer.
        (dt.datetime(2026, 12, 6, 13, 5, tzinfo=dt.UTC), "en", "Figures as of 14:05"),
        (dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC), "de", "Zahlen mit Stand 14:00"),
    ],
)
def test_the_dashboard_says_how_fresh_the_figures_are(
    client, shop, marketer, as_of, language, expected
):
    RollupState.objects.update(as_of=as_of)
    client.force_login(marketer)
    client.cookies["django_language"] = language
    page = client.get(reverse("reports:dashboard") + "?since=2026-03-01&until=2026-03-31")
    assert expected in page.content.decode()


@pytest.mark.django_db
def test_a_rep_sees_live_figures(client, shop):
    client.force_login(shop.rep)
    page = client.get(reverse("reports:dashboard") + "?since=2026-03-01&until=2026-03-31")
    assert "Live figures." in page.content.decode()
    assert "Figures as of" not in page.content.decode()


@pytest.mark.django_db
def test_a_bulk_change_of_most_days_is_a_full_rebuild(db):
    # 70 leads on 70 days from January 1; a bulk update stamps all of them.
    for index in range(70):
        LeadFactory(created_at=at(1, 1) + dt.timedelta(days=index))
    Lead.objects.update(updated_at=F("created_at"))  # long before the refresh
    rollup_refresh()
    LeadFactory(created_at=at(1, 5))
    assert not rollup_refresh().full  # one day changed

    Lead.objects.update(source_channel=Channel.REFERRAL, updated_at=timezone.now())
    result = rollup_refresh()

    assert result.full
    first_ten = ReportFilter(since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 10))
    channels = by_key(kpi_rows(first_ten, group_by=GroupBy.CHANNEL))
    assert list(channels) == [Channel.REFERRAL]
    assert channels[Channel.REFERRAL].leads == 11  # ten days, one with two leads


@pytest.mark.django_db
def test_the_api_says_when_the_figures_were_taken(shop, marketer):
    # 13:05 UTC on December 6 is 14:05 in Berlin (winter time).
    RollupState.objects.update(as_of=dt.datetime(2026, 12, 6, 13, 5, tzinfo=dt.UTC))
    query = "since=2026-03-01&until=2026-03-31"
    overview = api_as(marketer).get(f"/api/v1/reports/overview/?{query}").json()
    channels = api_as(marketer).get(f"/api/v1/reports/channels/?{query}").json()
    assert overview["as_of"] == channels["as_of"] == "2026-12-06T14:05:00+01:00"
    # A rep's figures and the sales report are computed live.
    mine = api_as(shop.rep).get(f"/api/v1/reports/overview/?{query}").json()
    sales = api_as(marketer).get(f"/api/v1/reports/sales/?{query}").json()
    assert mine["as_of"] is None
    assert sales["as_of"] is None

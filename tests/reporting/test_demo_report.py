"""The demo data give a dashboard with meaningful differences between channels."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Channel, Lead
from reporting.rollup import rollup_refresh
from reporting.selectors import GroupBy, ReportFilter, funnel, kpi_rows

pytestmark = pytest.mark.django_db


def test_the_demo_channels_differ_in_cost_per_lead_and_roi():
    with time_machine.travel(datetime(2026, 6, 17, 10, 30, tzinfo=UTC), tick=False):
        call_command("seed_demo", "--leads", "1500", "--seed", "7", stdout=StringIO())
        year = ReportFilter(since=date(2025, 7, 1), until=date(2026, 6, 17))
        rows = {row.key: row for row in kpi_rows(year, group_by=GroupBy.CHANNEL)}

    # The demo's rates convert every won margin: no channel is refused.
    newsletter, purchased = rows[Channel.NEWSLETTER], rows[Channel.PURCHASED_LIST]
    # 400 EUR a month bring many leads; 5,000 EUR lists bring few.
    assert purchased.cpl > 3 * newsletter.cpl
    assert newsletter.roi > purchased.roi
    rois = [row.roi for row in rows.values() if row.roi is not None]
    assert max(rois) - min(rois) > 1  # more than 100 percentage points apart
    assert all(row.cost is not None for row in rows.values())


def _rollup_equals_live(report: ReportFilter) -> None:
    for attribution in ["first", "last"]:
        for group_by in [None, GroupBy.CAMPAIGN, GroupBy.CHANNEL, GroupBy.DIRECTION, "period"]:
            wanted = ReportFilter(since=report.since, until=report.until, attribution=attribution)
            live = funnel._live_funnel_rows(wanted, group_by)
            assert live, (attribution, group_by)
            rolled_up = funnel._rollup_funnel_rows(wanted, group_by, medians=True)
            assert rolled_up == live, (attribution, group_by)


def test_the_rollup_gives_the_live_figures_of_the_demo_before_and_after_changes():
    """Beside the hand-checked tests: on 1,500 demo leads the rollup (three queries over
    day rows) and the live computation over the leads (one query) agree on every figure, per
    campaign, channel, direction, month and in all, also after changes and a refresh."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 30, tzinfo=UTC), tick=False):
        call_command("seed_demo", "--leads", "1500", "--seed", "7", stdout=StringIO())
        year = ReportFilter(since=date(2025, 7, 1), until=date(2026, 6, 17))
        # Mid-month to mid-month: monthly and daily histograms together.
        _rollup_equals_live(year)
        _rollup_equals_live(ReportFilter(since=date(2025, 11, 14), until=date(2026, 3, 20)))

        mqls = kpi_rows(year, group_by=None)[0].mqls
        moving = list(Lead.objects.filter(stage=Stage.UNQUALIFIED).order_by("id")[:20])
        in_year = sum(1 for lead in moving if year.start <= lead.created_at < year.end)
        for lead in moving:
            lead_services.lead_transition(lead_id=lead.pk, to_stage=Stage.MQL, by_rule="test")
        for lead in Lead.objects.filter(first_campaign__isnull=True).order_by("id")[:5]:
            lead_services.lead_update(lead_id=lead.pk, by_user=None, source_channel=Channel.OTHER)
        assert not rollup_refresh().full
        assert in_year > 0
        assert kpi_rows(year, group_by=None)[0].mqls == mqls + in_year
        _rollup_equals_live(year)

"""The demo data give a dashboard with meaningful differences between channels."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from leads.models import Channel
from reporting.selectors import GroupBy, ReportFilter, kpi_rows

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

"""The SLA's business-hours arithmetic: weekends, evenings, clock changes, other calendars."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sales.business_hours import add_business_hours

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {
    "workdays": [0, 1, 2, 3, 4],
    "day_starts": time(9),
    "day_ends": time(17),
    "time_zone": "Europe/Berlin",
}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Monday 10:00 + 24 h: Mon 7 h, Tue 8 h, Wed 8 h, Thu 1 h → Thursday 10:00.
        (berlin(2026, 3, 2, 10), 24, berlin(2026, 3, 5, 10)),
        # Friday 16:00 + 2 h: one on Friday, the second on Monday morning.
        (berlin(2026, 3, 6, 16), 2, berlin(2026, 3, 9, 10)),
        # Saturday counts from Monday's opening.
        (berlin(2026, 3, 7, 11), 1, berlin(2026, 3, 9, 10)),
        # Tuesday evening counts from Wednesday 9:00.
        (berlin(2026, 3, 3, 20), 1, berlin(2026, 3, 4, 10)),
        # Before opening: from 9:00 the same day.
        (berlin(2026, 3, 3, 6, 30), 3, berlin(2026, 3, 3, 12)),
        # A full day fits exactly: due at closing time, not the next morning.
        (berlin(2026, 3, 2, 9), 8, berlin(2026, 3, 2, 17)),
        # Half hours.
        (berlin(2026, 3, 2, 16, 45), 0.5, berlin(2026, 3, 3, 9, 15)),
    ],
)
def test_it_counts_only_working_hours(start, hours, due):
    assert add_business_hours(start, hours, **OFFICE) == due


def test_it_keeps_local_opening_hours_across_the_spring_clock_change():
    # Friday 27 March 2026 16:00 CET (15:00 UTC) + 2 h; clocks go forward on Sunday 29 March.
    # Monday opens at 9:00 CEST = 07:00 UTC, so the SLA is due at 08:00 UTC.
    due = add_business_hours(datetime(2026, 3, 27, 15, tzinfo=UTC), 2, **OFFICE)

    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_it_keeps_local_opening_hours_across_the_autumn_clock_change():
    # Friday 23 October 2026 16:30 CEST (14:30 UTC) + 1 h; clocks go back on Sunday 25 October.
    # Monday opens at 9:00 CET = 08:00 UTC: due at 08:30 UTC.
    due = add_business_hours(datetime(2026, 10, 23, 14, 30, tzinfo=UTC), 1, **OFFICE)

    assert due == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_it_answers_in_utc_whatever_zone_the_start_is_in():
    due = add_business_hours(berlin(2026, 3, 2, 10), 1, **OFFICE)

    assert due.utcoffset().total_seconds() == 0
    assert due == datetime(2026, 3, 2, 10, tzinfo=UTC)  # 11:00 CET


def test_it_follows_another_teams_calendar_and_zone():
    weekend_desk = {
        "workdays": [5, 6],
        "day_starts": time(10),
        "day_ends": time(14),
        "time_zone": "America/New_York",
    }
    # Wednesday 4 March 2026 noon New York: the next working hours are Saturday 10-14 and
    # Sunday 10-14; 6 hours end on Sunday at 12:00. US clocks go forward that Sunday at 2:00,
    # so 12:00 is EDT (UTC-4) = 16:00 UTC.
    start = datetime(2026, 3, 4, 12, tzinfo=ZoneInfo("America/New_York"))

    assert add_business_hours(start, 6, **weekend_desk) == datetime(2026, 3, 8, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "calendar", "message"),
    [
        (datetime(2026, 3, 2, 10), OFFICE, "aware"),  # noqa: DTZ001 (the naive start refused)
        (berlin(2026, 3, 2, 10), {**OFFICE, "workdays": []}, "working day"),
        (
            berlin(2026, 3, 2, 10),
            {**OFFICE, "day_starts": time(17), "day_ends": time(9)},
            "end after",
        ),
    ],
)
def test_it_refuses_what_has_no_answer(start, calendar, message):
    with pytest.raises(ValueError, match=message):
        add_business_hours(start, 1, **calendar)

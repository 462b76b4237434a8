"""Business-hours arithmetic for the SLA: pure functions, no database."""

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with at least one working day reaches any number of hours within this many days
# per 24 hours asked (a working day of one minute is the slowest: 1,440 days per 24 hours).
_MAX_DAYS_PER_HOUR = 61


def _window(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The working hours of ``day`` as UTC instants. Wall times come first: on the days clocks
    change, 9:00-17:00 is still 9:00 to 17:00 local time (the change happens at night)."""
    return (
        datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
        datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
    )


def add_business_hours(
    start: datetime,
    hours: float,
    *,
    workdays: Collection[int],
    day_starts: time,
    day_ends: time,
    time_zone: str,
) -> datetime:
    """The instant (UTC) when ``hours`` working hours have passed after ``start``, counting only
    the hours from ``day_starts`` to ``day_ends`` (local time in ``time_zone``) on ``workdays``
    (Monday 0 … Sunday 6). A start outside working hours counts from the next opening."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if not workdays:
        raise ValueError("A calendar needs at least one working day")
    if day_ends <= day_starts:
        raise ValueError("The working day must end after it starts")
    zone = ZoneInfo(time_zone)
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(zone).date()
    for _day in range(int(max(hours, 1) * _MAX_DAYS_PER_HOUR) + 8):
        if day.weekday() in workdays:
            opens, closes = _window(day, day_starts, day_ends, zone)
            begin = max(opens, cursor)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("The calendar never reaches that many hours")

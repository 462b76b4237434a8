"""SQL pieces that differ between PostgreSQL (production, tests) and SQLite (``make run``)."""

from statistics import median


class SqliteMedian:
    """``leadcrm_median(x)`` for SQLite: what ``percentile_cont(0.5)`` is in PostgreSQL."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return median(self.values) if self.values else None


def median_sql(vendor: str, expression: str) -> str:
    if vendor == "postgresql":
        return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expression})"
    return f"leadcrm_median({expression})"


def seconds_between_sql(vendor: str, earlier: str, later: str) -> str:
    """Seconds from ``earlier`` to ``later`` (two timestamp columns), NULL if either is."""
    if vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def whole_days_sql(vendor: str, seconds: str) -> str:
    """``seconds`` as whole days (24-hour spans), rounded down; NULL stays NULL."""
    if vendor == "postgresql":
        return f"CAST(FLOOR(({seconds}) / 86400) AS integer)"
    # SQLite may lack FLOOR: truncate, one less for a negative value that is not whole.
    return (
        f"(CAST(({seconds}) / 86400.0 AS INTEGER) - "
        f"(CASE WHEN ({seconds}) < 0 AND CAST(({seconds}) / 86400.0 AS INTEGER) "
        f"<> ({seconds}) / 86400.0 THEN 1 ELSE 0 END))"
    )

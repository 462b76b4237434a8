"""Counting long lists without reading all of a million rows."""

from django.db.models import QuerySet

# Lists count at most this many rows ("10,000+ leads"): an exact count of a million matching
# leads reads them all, and nobody needs to know whether it is 212,345 or 212,346.
LIST_COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """The number of rows up to ``cap`` (LIST_COUNT_CAP), and whether there are more."""
    cap = LIST_COUNT_CAP if cap is None else cap
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap

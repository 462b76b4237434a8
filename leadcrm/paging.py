"""Counting long lists without reading all of a million rows."""

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Model, OuterRef, QuerySet, Subquery

# Lists count at most this many rows ("10,000+ leads"): an exact count of a million matching
# leads reads them all, and nobody needs to know whether it is 212,345 or 212,346.
LIST_COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """The number of rows up to ``cap`` (LIST_COUNT_CAP), and whether there are more."""
    cap = LIST_COUNT_CAP if cap is None else cap
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


def scan_page(
    queryset: QuerySet,
    keys: Sequence[tuple[str, Any]],
    *,
    descending: bool,
    after: tuple | None,
    limit: int,
    cap: int | None = None,
) -> tuple[list[int] | None, int, bool]:
    """One page of ``queryset`` and its capped count from a single reading of the matches, for
    lists PostgreSQL can only answer from a bitmap of every matching row (a search by name
    prefixes): counting and paging separately built that bitmap twice, and on a sorted page
    PostgreSQL would rather walk the sort's index through a million leads to find 50 matches.

    ``keys`` are (name, expression) pairs ending in the primary key, all sorted one way. The
    answer is (ids, count, capped) as capped_count counts: the ids of up to ``limit`` rows after
    ``after`` in that order, and how many rows match in all (``after`` does not narrow the
    count). When more than ``cap`` rows match, ids is None: the caller reads the page from an
    index as usual (a search that broad finds a page's worth of rows at the start of it).
    """
    cap = LIST_COUNT_CAP if cap is None else cap
    names = [name for name, _expression in keys]
    matches = queryset.order_by().annotate(**dict(keys)).values_list(*names)[: cap + 1].query
    matches_sql, matches_params = matches.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in names)
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{quote(name)} {direction}" for name in names)
    where, where_params = "", []
    if after is not None:
        slots = ", ".join(["%s"] * len(after))
        where = f"WHERE ({columns}) {'<' if descending else '>'} ({slots})"
        where_params = list(after)
    sql = (
        f"WITH matches AS MATERIALIZED ({matches_sql}) "
        f"SELECT (SELECT COUNT(*) FROM matches), "
        f"ARRAY(SELECT {quote(names[-1])} FROM matches {where} ORDER BY {order} LIMIT %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*matches_params, *where_params, limit])
        total, ids = cursor.fetchone()
    if total > cap:
        return None, cap, True
    return list(ids), total, False


def row_lookup(model: type[Model], path: str) -> Any:
    """``path`` ("score__behaviour_score") as scan_page should compute it for each match: a
    column of the row itself as is, a column of a related row looked up by primary key (a
    correlated subquery). Joined, a search's few thousand matches made PostgreSQL hash the whole
    related table (all million score rows: 190 ms instead of 60 at random_page_cost 4)."""
    relation, _separator, rest = path.partition("__")
    if not rest:
        return F(path)
    field = model._meta.get_field(relation)
    if field.concrete:  # a foreign key of the row: its target by primary key
        related = field.related_model._base_manager.filter(pk=OuterRef(field.attname))
    else:  # a reverse one-to-one: the row pointing here
        if rest in (field.field.name, field.field.attname):
            return F("pk")
        related = field.related_model._base_manager.filter(**{field.field.name: OuterRef("pk")})
    return Subquery(related.values(rest)[:1])


def rows_in_order(queryset: QuerySet, ids: Sequence[int], **annotations: Any) -> list:
    """The rows with these ids, in this order, joined as ``queryset`` joins them (its
    ``select_related``) and with ``annotations``, but without its conditions: the ids were
    chosen through them, and PostgreSQL then plans a lookup by primary key alone."""
    rows = queryset.model._base_manager.filter(pk__in=ids).annotate(**annotations)
    rows.query.select_related = queryset.query.select_related
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]

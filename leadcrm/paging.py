"""Counting long lists without reading all of a million rows."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Expression,
    F,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL

# Lists count at most this many rows ("10,000+ leads"): an exact count of a million matching
# leads reads them all, and nobody needs to know whether it is 212,345 or 212,346.
LIST_COUNT_CAP = 10_000


# A count that reached the cap is remembered this long (CappedCount): more than 10,000 leads
# that matched a minute ago still do, and the count cost 1.5-2 ms a request (docs/benchmarks.md).
CAPPED_COUNT_SECONDS = 60


class CappedCount:
    """The number of ``queryset``'s rows up to ``cap`` (LIST_COUNT_CAP) and whether there are
    more, counted alone (``read``) or as a column of a page's own statement (``column``, then
    ``take`` its value): one statement instead of two, and PostgreSQL counts it once, not per
    row.

    Counting reads up to ``cap + 1`` index entries: 1.5-2 ms for a list of more than 10,000
    leads, whichever filter. Such a count is remembered in the cache for CAPPED_COUNT_SECONDS,
    by the counting statement and its parameters (the user's visibility and every filter among
    them), and not counted again meanwhile; a count under the cap is always counted. A list
    that falls under the cap (thousands of its leads deleted or moved within the minute) says
    "10,000+" until the minute is over.
    """

    def __init__(self, queryset: QuerySet, cap: int | None = None) -> None:
        self.cap = LIST_COUNT_CAP if cap is None else cap
        self.known: tuple[int, bool] | None
        try:
            limited = queryset.order_by().values("pk")[: self.cap + 1]
            sql, self.params = limited.query.sql_with_params()
        except EmptyResultSet:
            self.known = (0, False)
            return
        self.sql = f"SELECT COUNT(*) FROM ({sql}) capped"
        digest = hashlib.sha256(repr((self.sql, self.params)).encode()).hexdigest()
        self.key = f"capped-count:{digest}"
        self.known = (self.cap, True) if cache.get(self.key) else None

    def column(self) -> Expression | None:
        """The count as a column for the page's statement; None when it is known already."""
        if self.known is not None:
            return None
        return RawSQL(self.sql, self.params, output_field=IntegerField())

    def take(self, found: int) -> tuple[int, bool]:
        """The answer from the column's value (or a count of up to ``cap + 1`` rows)."""
        self.known = read_capped_count(found, self.cap)
        if self.known[1]:
            cache.set(self.key, True, CAPPED_COUNT_SECONDS)
        return self.known

    def read(self) -> tuple[int, bool]:
        """The answer, counted in a statement of its own unless known."""
        if self.known is None:
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self.params)
                self.take(cursor.fetchone()[0])
        return self.known


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """The number of rows up to ``cap`` (LIST_COUNT_CAP), and whether there are more."""
    return CappedCount(queryset, cap).read()


def read_capped_count(found: int, cap: int | None = None) -> tuple[int, bool]:
    """The count and whether more rows match, from a count of up to ``cap + 1`` rows."""
    cap = LIST_COUNT_CAP if cap is None else cap
    return min(found, cap), found > cap


def scan_page(
    arms: Sequence[QuerySet],
    keys: Sequence[tuple[str, Any]],
    *,
    descending: bool,
    after: tuple | None,
    limit: int,
    cap: int | None = None,
) -> tuple[list[int] | None, int, bool]:
    """One page of a search's matches and their capped count from a single reading of them.

    ``arms`` are the ways of matching (leads.filters.LeadFilter.search_arms): querysets whose
    union is the list. Each is read from its own index, index only where the index covers the
    sort (migration leads 0020), and at most ``cap + 1`` rows of each; one bitmap of every match
    instead (an OR of them) read the table row by row for the keys. Counting and paging
    separately built the matches twice, and on a sorted page PostgreSQL would rather walk the
    sort's index through a million leads to find 50 matches.

    ``keys`` are (name, expression) pairs ending in the primary key, all sorted one way. Keys
    on one related row (``F("score__behaviour_score")`` and the primary key) rank the matches
    from that row's table (_related_page_sql); other related columns are looked up per match
    (row_lookup). The
    answer is (ids, count, capped) as capped_count counts: the ids of up to ``limit`` rows after
    ``after`` in that order, and how many rows match in all (``after`` does not narrow the
    count). When more than ``cap`` rows match, ids is None: the caller reads the page from an
    index as usual (a search that broad finds a page's worth of rows at the start of it).
    """
    cap = LIST_COUNT_CAP if cap is None else cap
    model = arms[0].model
    related = _related_keys(model, keys)
    if related is None:
        selected = [(name, row_lookup(model, expression)) for name, expression in keys]
    else:
        selected = [("k_pk", F("pk"))]
    names = [name for name, _expression in selected]
    try:
        matches_sql, matches_params = _union(arms, selected, cap).query.sql_with_params()
    except EmptyResultSet:
        return [], 0, False
    if related is None:
        page_sql, page_params = _own_page_sql(names, descending=descending, after=after)
    else:
        page_sql, page_params = _related_page_sql(
            related, descending=descending, after=after, limit=limit
        )
    sql = (
        f"WITH matches AS MATERIALIZED ({matches_sql}), "
        f"counted AS MATERIALIZED (SELECT COUNT(*) AS n FROM matches) "
        f"SELECT (SELECT n FROM counted), {page_sql}"
    )
    # Cursor values as the ORM would send them (SQLite stores datetimes as text, without zone).
    page_params = [
        connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
        for value in page_params
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*matches_params, *page_params, limit])
        total, ids = cursor.fetchone()
    if total > cap:
        return None, cap, True
    if isinstance(ids, str):  # SQLite has no arrays: a JSON list
        ids = json.loads(ids)
    return list(ids or []), total, False


def capped_union_count(arms: Sequence[QuerySet], cap: int | None = None) -> tuple[int, bool]:
    """capped_count of a search's matches, from its ``arms`` (see scan_page), for the lists
    that read their page otherwise."""
    cap = LIST_COUNT_CAP if cap is None else cap
    found = _union(arms, [("k_pk", F("pk"))], cap).count()
    return min(found, cap), found > cap


def _union(arms: Sequence[QuerySet], selected: list[tuple[str, Any]], cap: int) -> QuerySet:
    names = [name for name, _expression in selected]
    parts = [arm.order_by().annotate(**dict(selected)).values_list(*names) for arm in arms]
    if connection.features.supports_slicing_ordering_in_compound:
        # More than ``cap`` rows in one arm are more than ``cap`` in all: reading on is waste.
        parts = [part[: cap + 1] for part in parts]
    return parts[0].union(*parts[1:])


def _own_page_sql(
    names: list[str], *, descending: bool, after: tuple | None
) -> tuple[str, list[Any]]:
    """The page's ids from the matches' own key columns."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in names)
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{quote(name)} {direction}" for name in names)
    where, params = "", []
    if after is not None:
        slots = ", ".join(["%s"] * len(after))
        where = f"WHERE ({columns}) {'<' if descending else '>'} ({slots})"
        params = list(after)
    chosen = f"SELECT {quote(names[-1])} FROM matches {where} ORDER BY {order} LIMIT %s"
    return _id_list(chosen, quote(names[-1])), params


@dataclass(frozen=True)
class RelatedKeys:
    """A sort on columns of a row every listed row has one of (the lead's LeadScore): its
    table, the column pointing at the listed row, and each key's column there."""

    table: str
    pointer: str
    columns: tuple[str, ...]


def _related_keys(model: type[Model], keys: Sequence[tuple[str, Any]]) -> RelatedKeys | None:
    """``keys`` as columns of one reverse one-to-one row (``score__behaviour_score`` and the
    primary key, which that row points at), else None."""
    relation, paths = None, []
    for _name, expression in keys:
        if not isinstance(expression, F):
            return None
        path = expression.name
        head, _separator, rest = path.partition("__")
        if not rest:
            paths.append((None, path))
            continue
        field = model._meta.get_field(head)
        if not (field.one_to_one and not field.concrete) or relation not in (None, field):
            return None
        relation = field
        paths.append((field, rest))
    if relation is None:
        return None
    related = relation.related_model._meta
    pointer = relation.field
    columns = []
    for field, column in paths:
        if field is None:
            if column not in ("pk", model._meta.pk.name):
                return None
            columns.append(pointer.column)
        else:
            columns.append(related.get_field(column).column)
    return RelatedKeys(related.db_table, pointer.column, tuple(columns))


# A page of matches ranked by a related row is found by walking that table's index in order
# and keeping the matches (a few index entries per match found, none per match not shown)
# rather than looking up every match's row by primary key (four buffers each), when the walk
# is expected to be shorter: each match is one row in reltuples / matches, so a page of
# ``limit`` costs limit * reltuples / matches index entries. An entry costs about a thirtieth
# of a lookup (docs/benchmarks.md, "Search read from covering indexes").
WALK_ENTRY_COST = 1 / 30


def _related_page_sql(
    related: RelatedKeys, *, descending: bool, after: tuple | None, limit: int
) -> tuple[str, list[Any]]:
    """The page's ids ranked by the related row's columns: its index walked in order, or every
    match's row looked up, whichever the number of matches makes shorter (WALK_ENTRY_COST)."""
    quote = connection.ops.quote_name
    table, pointer = quote(related.table), quote(related.pointer)
    direction, beyond = ("DESC", "<") if descending else ("ASC", ">")
    slots = ", ".join(["%s"] * len(related.columns))
    keyset = [] if after is None else list(after)

    # Each match's key columns by primary key: correlated subqueries, so no plan can differ.
    names = [f"k_{index}" for index in range(len(related.columns))]
    values = ", ".join(
        (
            "m.k_pk"
            if column == related.pointer
            else f"(SELECT r.{quote(column)} FROM {table} r WHERE r.{pointer} = m.k_pk)"
        )
        + f" AS {name}"
        for column, name in zip(related.columns, names, strict=True)
    )
    lookup = (
        f"SELECT {names[-1]} FROM (SELECT {values} FROM matches m) s"
        + ("" if after is None else f" WHERE ({', '.join(names)}) {beyond} ({slots})")
        + f" ORDER BY {', '.join(f'{name} {direction}' for name in names)} LIMIT %s"
    )
    if connection.vendor != "postgresql":
        return _id_list(lookup, names[-1]), keyset

    # ``IS TRUE``: a test PostgreSQL cannot turn into a join, so it stays a hashed lookup in
    # the matches beside the index walk, which the LIMIT stops.
    columns = [f"r.{quote(column)}" for column in related.columns]
    walk = (
        f"SELECT r.{pointer} FROM {table} r "
        f"WHERE (r.{pointer} IN (SELECT k_pk FROM matches)) IS TRUE"
        + ("" if after is None else f" AND ({', '.join(columns)}) {beyond} ({slots})")
        + f" ORDER BY {', '.join(f'{column} {direction}' for column in columns)} LIMIT %s"
    )
    rows = f"(SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass)"
    sql = (
        f"CASE WHEN (SELECT n * n FROM counted) >= %s * {WALK_ENTRY_COST} * {rows} "
        f"THEN ARRAY({walk}) ELSE ARRAY({lookup}) END"
    )
    # The page's size in the comparison, the walk's keyset and size, the lookup's keyset (the
    # caller adds the lookup's size).
    return sql, [limit, *keyset, limit, *keyset]


def _id_list(select: str, column: str) -> str:
    """``select``'s ids as one value: an array, or on SQLite (no arrays) a JSON list."""
    if connection.vendor == "postgresql":
        return f"ARRAY({select})"
    return f"(SELECT json_group_array({column}) FROM ({select}))"


def row_lookup(model: type[Model], expression: Any) -> Any:
    """``expression`` as scan_page computes it for each match: a column of the row itself as
    is, a column of a related row (``F("company__name")``) looked up by primary key (a
    correlated subquery). Joined, a search's few thousand matches made PostgreSQL hash the
    whole related table."""
    if not isinstance(expression, F):
        return expression
    path = expression.name
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


def rows_in_order(
    queryset: QuerySet,
    ids: Sequence[int],
    *,
    values: Sequence[str] | None = None,
    **annotations: Any,
) -> list:
    """The rows with these ids, in this order, joined as ``queryset`` joins them (its
    ``select_related``) and with ``annotations``, but without its conditions: the ids were
    chosen through them, and PostgreSQL then plans a lookup by primary key alone. With
    ``values`` (``id`` among them), dicts of those values instead of model instances."""
    rows = queryset.model._base_manager.filter(pk__in=ids).annotate(**annotations)
    if values:
        by_id = {row["id"]: row for row in rows.values(*values, *annotations)}
    else:
        rows.query.select_related = queryset.query.select_related
        by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]

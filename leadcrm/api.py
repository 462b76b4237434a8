"""Project-wide REST framework pieces: strict input, keyset pagination, throttles, errors."""

import json
from base64 import b64decode, b64encode
from binascii import Error as BinasciiError
from collections.abc import Mapping
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, relations, serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from leadcrm.exceptions import Conflict
from leadcrm.paging import (
    LIST_COUNT_CAP,
    CappedCount,
    capped_union_count,
    rows_in_order,
    scan_page,
)

# Primary keys are PostgreSQL bigints: anything above cannot exist and must not reach the database.
MAX_ID = 2**63 - 1


class StrictPrimaryKeyRelatedField(relations.PrimaryKeyRelatedField):
    """A reference by id that takes a whole number (or a string of ASCII digits) and nothing else.

    DRF's own field passes the value to the database as is: ``2.9`` finds user 2, ``1e400``
    (infinity once parsed) overflows, ``true`` finds id 1.
    """

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null (an empty HTML form field); in JSON it is a wrong type.
        if data == "":
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdecimal():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class StrictInputSerializer(serializers.Serializer):
    """Input whose text fields take JSON strings only.

    DRF's CharField turns ``0``, ``1.5`` or ``true`` into text; a client sending a number where
    the schema says string has made a mistake, so it is a 400 naming the field.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                name: [serializers.CharField.default_error_messages["invalid"]]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and data.get(name) is not None
                and not isinstance(data[name], str)
            }
            if errors:
                raise exceptions.ValidationError(errors)
        return super().to_internal_value(data)


class UniqueOrderingFilter(OrderingFilter):
    """``?ordering=`` from the view's ``ordering_fields``, always ending in ``id``.

    Without the tiebreaker, rows with equal values (every new lead scores 0) come back in any
    order, and keyset pagination cannot tell where a page ended. Unknown fields are a 400 naming
    the parameter instead of being dropped silently.

    A view's ``ordering_aliases`` name orderings of several model fields (``{"rank":
    ("-rank_order", "-created_at")}``); ``-rank`` reverses each of them. Its
    ``ordering_tiebreakers`` name the unique field that breaks ties after a field when it is
    the last one asked for (else ``id``).
    """

    def get_ordering(self, request, queryset, view):
        if self.ordering_param not in request.query_params:
            return with_tiebreaker(self.get_default_ordering(view), _tiebreakers(view))
        params = request.query_params[self.ordering_param].strip()
        allowed = {
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        }
        # An empty ?ordering= is a mistake to report, like an empty filter, not "the default".
        fields = [term.strip() for term in params.split(",")]
        unknown = [term for term in fields if term.lstrip("-") not in allowed]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("Cannot order by “%(field)s”. Choose from: %(allowed)s.")
                        % {"field": term, "allowed": ", ".join(sorted(allowed))}
                        for term in unknown
                    ]
                }
            )
        aliases = getattr(view, "ordering_aliases", {})
        expanded = []
        for term in fields:
            name = term.lstrip("-")
            if name in aliases:
                terms = aliases[name]
                expanded.extend(_reverse_ordering(terms) if term.startswith("-") else terms)
            else:
                expanded.append(term)
        return with_tiebreaker(expanded, _tiebreakers(view))

    def get_schema_operation_parameters(self, view):
        values = [
            value
            for field in getattr(view, "ordering_fields", [])
            for value in (field, f"-{field}")
        ]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": str(
                    gettext_lazy("Sort order, comma-separated; “-” sorts descending.")
                ),
                # minItems: an empty ?ordering= is refused, and in this form style an empty list
                # and a list of one empty string would read the same.
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "enum": values},
                },
                "style": "form",
                "explode": False,
            }
        ]


def with_tiebreaker(ordering, tiebreakers: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The ordering without repeated fields, ending in a unique field (in the direction before
    it): ``id``, or after a field of ``tiebreakers`` the unique field it names."""
    tiebreakers = tiebreakers or {}
    ends = {"id", *tiebreakers.values()}
    seen: set[str] = set()
    terms: list[str] = []
    for term in ordering or ():
        name = term.lstrip("-")
        if name == "pk":
            name, term = "id", term.replace("pk", "id")
        if name not in seen:
            seen.add(name)
            terms.append(term)
        if name in ends:
            break
    if not seen & ends:
        last = terms[-1].lstrip("-") if terms else ""
        tiebreaker = tiebreakers.get(last, "id")
        terms.append(f"-{tiebreaker}" if terms and terms[-1].startswith("-") else tiebreaker)
    return tuple(terms)


class KeysetCursorPagination(CursorPagination):
    """Keyset pagination over the full, unique ordering: constant cost per page however deep.

    DRF's CursorPagination keeps only the first ordering field in the cursor plus an offset capped
    at 1,000, so once more rows than that tie on the field, ``next`` loops forever. Here the cursor
    holds the value of every ordering field of the last (or first) row, ``id`` included, and a page
    starts strictly after (or before) that row.

    A view with ``row_values`` (names as ``values()`` takes them, the ordering fields among them)
    gets its page as dicts of those values instead of model instances, which cost more to make
    than their serialisation (leads.api.LeadListCreateApi).
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
    template = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = with_tiebreaker(
            self.get_ordering(request, queryset, view), _tiebreakers(view)
        )
        self.model = queryset.model
        self.row_values = getattr(view, "row_values", None)
        reverse, position = self.decode_cursor(request) or (False, None)

        ordering = _reverse_ordering(self.ordering) if reverse else self.ordering
        rows = self.page_rows(queryset.order_by(*ordering), ordering, position)
        self.page = rows[: self.page_size]
        more = len(rows) > self.page_size
        if reverse:
            self.page.reverse()
        self.has_next = position is not None if reverse else more
        self.has_previous = more if reverse else position is not None
        self.position = position
        return self.page

    @staticmethod
    def joined(queryset, ordering):
        for relation in {term.lstrip("-").split("__")[0] for term in ordering if "__" in term}:
            # Ordered by a column of a one-to-one row every row has (the lead's score): an
            # inner join, which the planner may start from that table's index.
            queryset = queryset.filter(**{f"{relation}__isnull": False})
        return queryset

    def page_rows(self, queryset, ordering, position) -> list:
        """The page's rows and one more (to tell whether there is a next page)."""
        queryset = self.joined(queryset, ordering)
        if position is not None:
            queryset = queryset.filter(_after(ordering, position))
        return list(self.rows(queryset)[: self.page_size + 1])

    def rows(self, queryset, *annotations: str):
        return queryset.values(*self.row_values, *annotations) if self.row_values else queryset

    def get_next_link(self):
        if not self.has_next:
            return None
        position = self._position_of(self.page[-1]) if self.page else self.position
        return self._link(reverse=False, position=position)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        position = self._position_of(self.page[0]) if self.page else self.position
        return self._link(reverse=True, position=position)

    def decode_cursor(self, request):
        """``None`` without a cursor, else ``(reverse, position)``; a garbled cursor is a 400."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            token = json.loads(b64decode(encoded.encode("ascii"), validate=True))
            reverse, values = token["r"], token["p"]
            if not isinstance(reverse, bool) or not isinstance(values, list):
                raise ValueError
            if len(values) != len(self.ordering):
                raise ValueError
            position = tuple(
                self._to_python(term, value)
                for term, value in zip(self.ordering, values, strict=True)
            )
            if any(value is None for value in position):
                raise ValueError
        except (
            BinasciiError,
            DjangoValidationError,
            KeyError,
            TypeError,
            UnicodeError,
            ValueError,
        ) as exc:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("Invalid cursor: follow the next or previous link.")]}
            ) from exc
        return reverse, position

    def _field(self, term: str):
        *relations, name = term.lstrip("-").split("__")
        model = self.model
        try:
            for relation in relations:
                model = model._meta.get_field(relation).related_model
            return model._meta.get_field(name)
        except (AttributeError, FieldDoesNotExist) as exc:
            raise ValueError(term) from exc

    def _to_python(self, term: str, value):
        field = self._field(term)
        # A GeneratedField converts nothing itself; its output field checks the cursor's value.
        return (getattr(field, "output_field", None) or field).to_python(value)

    def _position_of(self, row) -> list:
        if isinstance(row, Mapping):
            return [_cursor_text(row[term.lstrip("-")]) for term in self.ordering]
        position = []
        for term in self.ordering:
            value = row
            for name in term.lstrip("-").split("__"):
                value = getattr(value, name)
            position.append(_cursor_text(value))
        return position

    def _link(self, *, reverse: bool, position) -> str:
        if position and not isinstance(position[0], str):
            position = [str(value) for value in position]
        token = json.dumps({"r": reverse, "p": list(position)}, separators=(",", ":"))
        encoded = b64encode(token.encode()).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)


class KeptFilterBackend(DjangoFilterBackend):
    """django-filter's, keeping the filter set on the view: CountedKeysetPagination reads from
    it what to count (``counted_qs``) and a search's arms (``search_arms``), where it has them
    (leads.filters.LeadFilter)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        view.filterset = filterset
        return filterset.qs


# The name of the page's count beside its rows (CountedKeysetPagination._counted_rows).
COUNT_COLUMN = "list_count"


class CountedKeysetPagination(KeysetCursorPagination):
    """Keyset pages that also say how many rows match, counting no further than
    leadcrm.paging.LIST_COUNT_CAP (``count_capped``: more match), as the list page does.

    A search (the view's filterset offers ``search_arms``, as the lead list's does for ``?q=``)
    has its page and count read together from its arms (leadcrm.paging.scan_page).
    """

    def paginate_queryset(self, queryset, request, view=None):
        filterset = getattr(view, "filterset", None)
        self.arms = filterset.search_arms() if hasattr(filterset, "search_arms") else None
        self.counted = None if self.arms else getattr(filterset, "counted_qs", queryset)
        return super().paginate_queryset(queryset, request, view)

    def page_rows(self, queryset, ordering, position) -> list:
        if not self.arms:
            queryset = self.joined(queryset, ordering)
            # The page's ids first, then only their rows joined (``select_related``): where
            # PostgreSQL sorts the matches rather than reading them in index order (a rep's SQL
            # leads by rank, 1,600 of them), it joined every match's company before keeping 51.
            if position is not None:
                queryset = queryset.filter(_after(ordering, position))
            page = queryset.values("pk")[: self.page_size + 1]
            return self._counted_rows(queryset.filter(pk__in=page))
        descending = {term.startswith("-") for term in ordering}
        if len(descending) > 1:  # a mixed ordering reads its page as any other list
            self.count, self.count_capped = capped_union_count(self.arms)
            return super().page_rows(queryset, ordering, position)
        keys = [
            (f"k_{term.lstrip('-').replace('__', '_')}", F(term.lstrip("-"))) for term in ordering
        ]
        ids, self.count, self.count_capped = scan_page(
            self.arms, keys, descending=descending.pop(), after=position, limit=self.page_size + 1
        )
        if ids is None:
            return super().page_rows(queryset, ordering, position)
        return rows_in_order(queryset, ids, values=self.row_values)

    def _counted_rows(self, queryset) -> list:
        """The page's rows, with the count read in the same statement (CappedCount.column) unless
        known; counted alone when the page is empty (past the last row, the count may not be 0)."""
        count = CappedCount(self.counted)
        column = count.column()
        if column is None:
            rows = list(self.rows(queryset))
        else:
            rows = list(self.rows(queryset.annotate(**{COUNT_COLUMN: column}), COUNT_COLUMN))
            if rows and self.row_values:
                count.take(rows[0][COUNT_COLUMN])
                for row in rows:
                    del row[COUNT_COLUMN]
            elif rows:
                count.take(getattr(rows[0], COUNT_COLUMN))
        self.count, self.count_capped = count.read()
        return rows

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "count": self.count,
                "count_capped": self.count_capped,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_capped", "results"]
        response["properties"] = {
            **{key: value for key, value in response["properties"].items() if key != "results"},
            "count": {
                "type": "integer",
                "minimum": 0,
                "maximum": LIST_COUNT_CAP,
                "description": f"Matching rows, counted up to {LIST_COUNT_CAP:,}.",
            },
            "count_capped": {
                "type": "boolean",
                "description": f"More than {LIST_COUNT_CAP:,} rows match.",
            },
            "results": schema,
        }
        return response


def _tiebreakers(view) -> Mapping[str, str]:
    return getattr(view, "ordering_tiebreakers", {})


def _cursor_text(value) -> str:
    """A cursor value as the ordering field's ``value_to_string`` writes it (ISO 8601 for
    timestamps), which its ``to_python`` reads back."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def _reverse_ordering(ordering) -> tuple[str, ...]:
    return tuple(term[1:] if term.startswith("-") else f"-{term}" for term in ordering)


def _after(ordering, position) -> Q:
    """Rows that come strictly after ``position`` in ``ordering``.

    All terms in one direction (the usual case) become a row comparison such as
    ``(created_at, id) < (%s, %s)``, which PostgreSQL answers from a composite index.
    """
    names = [term.lstrip("-") for term in ordering]
    descending = [term.startswith("-") for term in ordering]
    if all(descending) or not any(descending):
        lookup = TupleLessThan if descending[0] else TupleGreaterThan
        return Q(lookup(Tuple(*(F(name) for name in names)), position))
    condition = Q()
    for index in reversed(range(len(names))):
        comparison = "lt" if descending[index] else "gt"
        step = Q(**{f"{names[index]}__{comparison}": position[index]})
        condition = step | (Q(**{names[index]: position[index]}) & condition) if condition else step
    return condition


def exception_handler(exc, context):
    """Services raise Django's ValidationError; clients get a 400 naming each field."""
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc), **exc.payload}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "detail": _("The request body is larger than %(size)d bytes.")
                % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)

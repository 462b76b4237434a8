"""Project-wide REST framework pieces: pagination and error responses."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from leadcrm.exceptions import Conflict


class CreatedCursorPagination(CursorPagination):
    """Keyset pagination, newest first: constant cost per page however deep a client pages."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # DRF answers a garbled cursor with 404; it is bad input, so 400 naming the parameter.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.cursor_query_param: [exc.detail]}) from exc


def exception_handler(exc, context):
    """Services raise Django's ValidationError; clients get a 400 naming each field."""
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc), **exc.payload}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)

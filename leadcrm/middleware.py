"""Response headers Django has no setting for."""

import csp.middleware
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def permissions_policy(get_response):
    """Send ``Permissions-Policy`` (settings.PERMISSIONS_POLICY) unless a view set its own."""

    def middleware(request):
        response = get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, which builds the policy for every response before it looks
    whether the view is exempt: here an exempt response (``@csp_exempt()``: the tracking beacon's
    empty 204, thousands a second) skips the building too."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase):
        if getattr(response, "_csp_exempt", False):
            return response
        return super().process_response(request, response)

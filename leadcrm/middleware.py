"""Response headers Django has no setting for."""

from django.conf import settings


def permissions_policy(get_response):
    """Send ``Permissions-Policy`` (settings.PERMISSIONS_POLICY) unless a view set its own."""

    def middleware(request):
        response = get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware

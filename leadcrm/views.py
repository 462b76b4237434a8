import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from leadcrm.health import CRITICAL, run_checks
from leadcrm.roles import Role, has_role

logger = logging.getLogger(__name__)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where signing in leads: a sales rep starts the day in their queue, everyone else in the
    lead list (by URL name: the project does not import the apps above it)."""
    if has_role(request.user, Role.SALES_REP):
        return redirect("sales:queue")
    return redirect("leads:list")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the web process can serve (an old or missing heartbeat only marks it "degraded"),
    else 503. Staff users also see each failure's error text."""
    checks = run_checks(with_errors=_is_staff(request))
    failed = {name for name, result in checks.items() if result["status"] != "ok"}
    if failed & CRITICAL:
        overall, status = "error", 503
    elif failed:
        overall, status = "degraded", 200
    else:
        overall, status = "ok", 200
    return JsonResponse({"status": overall, "checks": checks}, status=status)


def _is_staff(request: HttpRequest) -> bool:
    try:
        return request.user.is_staff
    except DatabaseError:  # the session lives in the database, which may be the part that is down
        return False


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """400, or 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE; JSON under /api/, else a page."""
    too_big = isinstance(exception, RequestDataTooBig)
    if not too_big and not _is_api(request):
        return defaults.bad_request(request, exception)
    status = 413 if too_big else 400
    message = (
        _("The request body is larger than %(size)d bytes.")
        % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        if too_big
        else _("The request could not be understood.")
    )
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """JSON under /api/; elsewhere the 500 page in the app's layout and the user's language,
    never with debug detail.

    Django's own handler renders 500.html without the request, so the layout would lose the
    navigation. When the layout itself fails (the database that holds the user is down, say),
    the same page is rendered without the signed-in parts.
    """
    if _is_api(request):
        return JsonResponse({"detail": _("Server error.")}, status=500)
    try:
        body = loader.render_to_string("500.html", request=request)
    except Exception:
        logger.exception("The 500 page failed to render with the request; rendering it without")
        body = loader.render_to_string("500.html")
    return HttpResponseServerError(body)

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from leadcrm.health import CRITICAL, run_checks

logger = logging.getLogger(__name__)


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


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponseServerError:
    """The 500 page in the app's layout and the user's language, never with debug detail.

    Django's own handler renders 500.html without the request, so the layout would lose the
    navigation. When the layout itself fails (the database that holds the user is down, say),
    the same page is rendered without the signed-in parts.
    """
    try:
        body = loader.render_to_string("500.html", request=request)
    except Exception:
        logger.exception("The 500 page failed to render with the request; rendering it without")
        body = loader.render_to_string("500.html")
    return HttpResponseServerError(body)

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from leadcrm.health import CRITICAL, run_checks


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

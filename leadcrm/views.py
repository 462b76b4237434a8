from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from leadcrm.health import CRITICAL, run_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the web process can serve (a missing worker only marks it "degraded"), else 503."""
    checks = run_checks()
    failed = {name for name, result in checks.items() if result["status"] != "ok"}
    if failed & CRITICAL:
        overall, status = "error", 503
    elif failed:
        overall, status = "degraded", 200
    else:
        overall, status = "ok", 200
    return JsonResponse({"status": overall, "checks": checks}, status=status)

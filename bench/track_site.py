"""URLs of bench.track's server: the app, plus a bare Django view that answers 204 (the
baseline: the same middleware, nothing else)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/bare", bare),
    path("", include("leadcrm.urls")),
]

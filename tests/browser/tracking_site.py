"""URLs for the tracking browser test: the app plus two pages of a "customer website" that
include the tracking snippet, as a marketer pastes it."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from capture.views import tracking_script


def website_page(request: HttpRequest, title: str) -> HttpResponse:
    _body, version = tracking_script()
    return HttpResponse(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        f'<script async src="/t/lc.js?v={version}"></script>'
        f'</head><body><h1>{title}</h1><a id="pricing" href="/pricing/">Pricing</a></body></html>'
    )


urlpatterns = [
    path("welcome/", website_page, {"title": "Welcome"}),
    path("pricing/", website_page, {"title": "Pricing"}),
    path("", include("leadcrm.urls")),
]

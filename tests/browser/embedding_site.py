"""URLs for the embedding browser test: the app plus a "partner website" page that embeds a
capture form with the snippet a marketer copies. Reached as http://127.0.0.1:<port>, it is
another origin than the app at http://localhost:<port>."""

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.html import escape


@csp_exempt()  # the partner's own page: LeadCRM's policy is not theirs
def partner_page(request: HttpRequest, slug: str) -> HttpResponse:
    crm = escape(request.GET["crm"])
    return HttpResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Partner</title>"
        "</head><body><h1>Partner website</h1>"
        f'<script src="{crm}/f/embed.js" data-leadcrm-form="{escape(slug)}" async></script>'
        "</body></html>"
    )


urlpatterns = [
    path("partner/<slug:slug>/", partner_page),
    path("", include("leadcrm.urls")),
]

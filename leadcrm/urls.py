from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from leadcrm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("leads/", include("leads.urls")),
    path("scoring/", include("scoring.urls")),
    path("tracking/", include("capture.urls")),
    path("t/", include("capture.public_urls")),
    path("forms/", include("capture.form_urls")),
    path("f/", include("capture.landing_urls")),
    path("webhooks/", include("webhooks.urls")),
    path("api/v1/", include("leads.api_urls")),
    path("api/v1/", include("capture.api_urls")),
    path("api/v1/", include("scoring.api_urls")),
    path("sales/", include("sales.urls")),
    path("api/v1/", include("sales.api_urls")),
    path("reports/", include("reporting.urls")),
    path("campaigns/", include("reporting.campaign_urls")),
    path("api/v1/", include("reporting.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI for signed-in users, like the schema; its start script is a separate file (no
    # inline script), but the UI sets inline styles, so its page alone allows them.
    path(
        "api/docs/",
        login_required(
            csp_update({"style-src": [UNSAFE_INLINE]})(
                SpectacularSwaggerSplitView.as_view(url_name="api-schema")
            )
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

handler400 = "leadcrm.views.bad_request"
handler404 = "leadcrm.views.page_not_found"
handler500 = "leadcrm.views.server_error"

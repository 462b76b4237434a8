"""Public capture form endpoints: no login, reached by visitors and other websites."""

from django.urls import path

from capture import form_views

app_name = "landing"

urlpatterns = [
    path("embed.js", form_views.embed_script, name="embed-script"),
    path("confirm/<str:token>/", form_views.confirm_consent, name="confirm"),
    path("<slug:slug>/", form_views.landing_page, name="page"),
    path("<slug:slug>/embed/", form_views.embedded_form, name="embedded"),
]

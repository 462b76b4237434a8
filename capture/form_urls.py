"""The marketers' pages for capture forms."""

from django.urls import path

from capture import form_views

app_name = "forms"

urlpatterns = [
    path("", form_views.form_list, name="list"),
    path("new/", form_views.form_edit, name="create"),
    path("<int:pk>/", form_views.form_edit, name="edit"),
    path("preview/", form_views.form_preview, name="preview"),
    path("outbox/", form_views.outbox, name="outbox"),
]

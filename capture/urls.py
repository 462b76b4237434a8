from django.urls import path

from capture import views

app_name = "capture"

urlpatterns = [
    path("", views.tracking_settings, name="settings"),
    path("rules/<int:pk>/edit/", views.tracking_rule_edit, name="rule-edit"),
    path("rules/<int:pk>/delete/", views.tracking_rule_delete, name="rule-delete"),
]

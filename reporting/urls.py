from django.urls import path

from reporting import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("export/<slug:kind>.csv", views.export_csv, name="export"),
]

from django.urls import path

from reporting import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sales/", views.sales_report, name="sales"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("export/<slug:kind>.csv", views.export_csv, name="export"),
]

from django.urls import path

from reporting import api

urlpatterns = [
    path("reports/overview/", api.ReportOverviewApi.as_view(), name="api-report-overview"),
    path("reports/funnel/", api.ReportFunnelApi.as_view(), name="api-report-funnel"),
    path("reports/trend/", api.ReportTrendApi.as_view(), name="api-report-trend"),
    path("reports/channels/", api.ReportChannelsApi.as_view(), name="api-report-channels"),
    path("reports/campaigns/", api.ReportCampaignsApi.as_view(), name="api-report-campaigns"),
    path("reports/sales/", api.ReportSalesApi.as_view(), name="api-report-sales"),
    path("reports/directions/", api.ReportDirectionsApi.as_view(), name="api-report-directions"),
]

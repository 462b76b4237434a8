from django.urls import path

from reporting import campaign_views

app_name = "campaigns"

urlpatterns = [
    path("", campaign_views.campaign_list, name="list"),
    path("exchange-rates/", campaign_views.exchange_rates, name="rates"),
    path("new/", campaign_views.campaign_create, name="create"),
    path("<int:pk>/edit/", campaign_views.campaign_edit, name="edit"),
    path("<int:pk>/costs/", campaign_views.campaign_costs, name="costs"),
    path("<int:pk>/costs/add/", campaign_views.cost_add, name="cost-add"),
    path("<int:pk>/costs/import/", campaign_views.cost_import, name="cost-import"),
    path("<int:pk>/costs/<int:cost_pk>/delete/", campaign_views.cost_delete, name="cost-delete"),
]

from django.urls import path

from leads import list_views, views

app_name = "leads"

urlpatterns = [
    path("", list_views.lead_list, name="list"),
    path("bulk/", list_views.lead_bulk, name="bulk"),
    path("columns/", list_views.lead_list_columns, name="columns"),
    path("views/", list_views.saved_view_create, name="view-create"),
    path("views/<int:pk>/delete/", list_views.saved_view_delete, name="view-delete"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/transition/", views.lead_transition, name="transition"),
    path("<int:pk>/claim/", views.lead_claim, name="claim"),
    path("<int:pk>/delete/", views.lead_delete, name="delete"),
    path("companies/lookup/", views.company_lookup, name="company-lookup"),
    path("check-email/", views.check_email, name="check-email"),
]

from django.urls import path

from leads import api

urlpatterns = [
    path("leads/", api.LeadListCreateApi.as_view(), name="api-lead-list"),
    path("leads/upsert/", api.LeadUpsertApi.as_view(), name="api-lead-upsert"),
    path("leads/<int:pk>/", api.LeadDetailApi.as_view(), name="api-lead-detail"),
    path("leads/<int:pk>/claim/", api.LeadClaimApi.as_view(), name="api-lead-claim"),
    path("leads/<int:pk>/transition/", api.LeadTransitionApi.as_view(), name="api-lead-transition"),
]

from django.urls import path

from scoring import api

urlpatterns = [
    path("leads/<int:pk>/score/", api.LeadScoreApi.as_view(), name="api-lead-score"),
]

from django.urls import path

from scoring import api

# Included under /api/v1/.
urlpatterns = [
    path("leads/<int:pk>/score/", api.LeadScoreApi.as_view(), name="api-lead-score"),
    path("scoring/profile/", api.ProfileApi.as_view(), name="api-scoring-profile"),
    path("scoring/rescorings/", api.RescoringCreateApi.as_view(), name="api-scoring-rescorings"),
    path(
        "scoring/rescorings/<int:pk>/",
        api.RescoringDetailApi.as_view(),
        name="api-scoring-rescoring",
    ),
    path(
        "scoring/rescorings/<int:pk>/save/",
        api.RescoringSaveApi.as_view(),
        name="api-scoring-rescoring-save",
    ),
    path("scoring/versions/", api.VersionListApi.as_view(), name="api-scoring-versions"),
]

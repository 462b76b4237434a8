from django.urls import path

from scoring import api

# Included under /api/v1/scoring/.
urlpatterns = [
    path("profile/", api.ProfileApi.as_view(), name="api-scoring-profile"),
    path("rescorings/", api.RescoringCreateApi.as_view(), name="api-scoring-rescorings"),
    path("rescorings/<int:pk>/", api.RescoringDetailApi.as_view(), name="api-scoring-rescoring"),
    path(
        "rescorings/<int:pk>/save/",
        api.RescoringSaveApi.as_view(),
        name="api-scoring-rescoring-save",
    ),
    path("versions/", api.VersionListApi.as_view(), name="api-scoring-versions"),
]

from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.rules, name="rules"),
    path("rescorings/<int:pk>/", views.rescoring_detail, name="rescoring"),
    path("rescorings/<int:pk>/save/", views.rescoring_save, name="rescoring-save"),
    path("versions/", views.versions, name="versions"),
]

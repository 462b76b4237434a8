"""Public endpoints: no login, reached from the customers' websites."""

from django.urls import path

from capture import views

app_name = "track"

urlpatterns = [
    path("lc.js", views.tracking_script_view, name="script"),
    path("e", views.track_event, name="event"),
]

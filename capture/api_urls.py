from django.urls import path

from capture import api

urlpatterns = [
    path("events/", api.EventBatchApi.as_view(), name="api-event-batch"),
]

"""leadcrm.api.CountedKeysetPagination for a view that pages model instances (no ``row_values``):
the count read beside the page's rows all the same."""

import pytest
from rest_framework import generics, serializers
from rest_framework.test import APIRequestFactory

from leadcrm.api import CountedKeysetPagination
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


class LeadEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["id", "email"]


class LeadEmails(generics.ListAPIView):
    queryset = Lead.objects.all()
    serializer_class = LeadEmailSerializer
    pagination_class = CountedKeysetPagination
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


def get(url: str) -> dict:
    response = LeadEmails.as_view()(APIRequestFactory().get(url))
    response.render()
    return response.data


def test_model_instances_are_paged_with_their_count_in_the_same_statement(
    django_assert_num_queries,
):
    oldest, middle, newest = (LeadFactory(email=f"{name}@example.com") for name in "omn")

    with django_assert_num_queries(1):
        first = get("/leads/?page_size=2")
    following = get(first["next"])

    assert [row["email"] for row in first["results"]] == [newest.email, middle.email]
    assert (first["count"], first["count_capped"]) == (3, False)
    assert [row["email"] for row in following["results"]] == [oldest.email]
    assert (following["count"], following["count_capped"], following["next"]) == (3, False, None)


def test_model_instances_over_the_cap_say_so(monkeypatch):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 2)
    LeadFactory.create_batch(3)

    page = get("/leads/?page_size=1")

    assert (page["count"], page["count_capped"], len(page["results"])) == (2, True, 1)

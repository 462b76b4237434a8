"""The score row keeps a copy of the lead's temperature (for the hot leads' index): every way
scoring moves a lead's temperature moves the copy with it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from leads import event_services
from leads.models import Lead
from scoring import rescoring as rescorings
from scoring import services
from scoring.services import active_profile
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def temperatures(lead: Lead) -> tuple[str, str]:
    """(the lead's temperature, its score row's copy)."""
    lead = Lead.objects.select_related("score").get(pk=lead.pk)
    return lead.temperature, lead.score.temperature


def test_the_copy_follows_events_decay_edits_and_rule_changes(client, marketer):
    # c_level 30 + "CEO" 15 + DE 10 = 55 fit points: grade B.
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(seniority="c_level", job_title="CEO", country="DE", company=company)
    services.lead_rescore_fit(lead_id=lead.pk)
    client.force_login(marketer)

    with time_machine.travel(MONDAY, tick=False):
        for kind in ("demo_request", "quote_request"):  # 40 + 40 = 80: B1, hot
            event = event_services.event_record(lead=lead, kind=kind, occurred_at=MONDAY)
            services.event_score(event_id=event.pk)
        after_events = temperatures(lead)
        listed_hot = client.get(reverse("leads:list"), {"temperature": "hot", "sort": "score"})
    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        rescorings.leads_refresh_decay()  # 40: B3, warm
        after_decay = temperatures(lead)
        # Not in DE: 45 fit points, grade C; C3 is cold.
        Lead.objects.filter(pk=lead.pk).update(country="US")
        services.lead_rescore_fit(lead_id=lead.pk)  # as the edit's task does
        after_edit = temperatures(lead)
        profile = active_profile()
        profile.hot_ranks = [*profile.hot_ranks, "C3"]
        profile.save()
        rescorings.rescore_all(profile=profile)
        after_rule_change = temperatures(lead)

    assert after_events == ("hot", "hot")
    assert [row.pk for row in listed_hot.context["leads"]] == [lead.pk]
    assert after_decay == ("warm", "warm")
    assert after_edit == ("cold", "cold")
    assert after_rule_change == ("hot", "hot")

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from leads import event_services
from scoring import selectors, services
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_it_explains_every_point_and_every_matched_grade_rule(django_assert_num_queries):
    company = CompanyFactory(industry="software", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(seniority="director", job_title="Head of IT", country="AT", company=company)
    services.lead_rescore_fit(lead_id=lead.pk)
    with time_machine.travel(MONDAY, tick=False):
        for kind, days_ago in [("demo_request", 45), ("webinar_attended", 10)]:
            event = event_services.event_record(
                lead=lead, kind=kind, occurred_at=MONDAY - timedelta(days=days_ago)
            )
            services.event_score(event_id=event.pk)
    lead.refresh_from_db()

    with django_assert_num_queries(4):  # profile, rules, matches, ledger with rules and events
        breakdown = selectors.lead_score_breakdown(lead=lead, now=MONDAY)

    # director 20 + "Head of" 15 + software 20 + AT 10 = 65
    assert (breakdown.fit_points, breakdown.grade) == (65, "B")
    assert [(r.field, r.points) for r in breakdown.matched_grade_rules] == [
        ("seniority", 20),
        ("job_title", 15),
        ("company__industry", 20),
        ("country", 10),
    ]
    assert [
        (p.entry.rule.name, p.entry.points, p.value_now, p.halves_next_at) for p in breakdown.points
    ] == [
        # 20 * 0.5^(10/30) = 15.87; halves on the 30th day after the webinar
        ("Webinar attended", 20, 15.87, MONDAY + timedelta(days=20)),
        # 40 * 0.5^(45/30) = 14.14; halved once, halves again at 60 days
        ("Demo request", 40, 14.14, MONDAY + timedelta(days=15)),
    ]

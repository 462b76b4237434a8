"""Anonymous visitors: their history joins the lead when they identify, and they are counted
per campaign (visitor → lead conversion)."""

from datetime import UTC, datetime, timedelta

import pytest

from leads import event_services, selectors
from leads.event_services import EventRow
from leads.models import Event, Visitor
from tests.concurrency import run_in_threads
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def visit(visitor_id: str, *, campaign=None, at: datetime = MONDAY, kind: str = "page_view"):
    return event_services.events_record_bulk(
        events=[
            EventRow(
                kind=kind,
                visitor_id=visitor_id,
                url="https://www.example.com/",
                campaign_id=campaign.pk if campaign else None,
                occurred_at=at,
            )
        ]
    )


def test_it_links_the_anonymous_history_when_the_visitor_identifies():
    lead = LeadFactory()
    visit("visitor-anna-000001", at=MONDAY - timedelta(days=2))
    visit("visitor-anna-000001", kind="pricing_page_view", at=MONDAY - timedelta(days=1))
    visit("visitor-bert-000002")

    linked = event_services.visitor_link(visitor_id="visitor-anna-000001", lead_id=lead.pk)

    assert len(linked) == 2
    assert list(
        Event.objects.filter(lead=lead).order_by("occurred_at").values_list("kind", flat=True)
    ) == ["page_view", "pricing_page_view"]
    assert Visitor.objects.get(visitor_id="visitor-anna-000001").lead == lead
    assert Event.objects.get(visitor_id="visitor-bert-000002").lead is None


def test_later_events_of_an_identified_visitor_belong_to_its_lead():
    lead = LeadFactory()
    event_services.visitor_link(visitor_id="visitor-anna-000001", lead_id=lead.pk)

    visit("visitor-anna-000001", kind="download")

    assert Event.objects.get(kind="download").lead == lead


def test_it_counts_visitors_identified_visitors_and_conversion_per_campaign():
    spring, summer = CampaignFactory(name="Spring"), CampaignFactory(name="Summer")
    CampaignFactory(name="Without visitors")
    for number in range(4):
        visit(f"spring-visitor-{number:04}", campaign=spring)
    visit("summer-visitor-0001", campaign=summer)
    visit("direct-visitor-0001")
    visit("direct-visitor-0002")
    # A later visit from another campaign does not move a visitor from its first campaign.
    visit("spring-visitor-0000", campaign=summer, at=MONDAY + timedelta(days=3))
    event_services.visitor_link(visitor_id="spring-visitor-0001", lead_id=LeadFactory().pk)

    rows = selectors.campaign_visitors()

    assert [(row.campaign_name, row.visitors, row.identified) for row in rows] == [
        ("Spring", 4, 1),
        ("", 2, 0),
        ("Summer", 1, 0),
    ]
    assert rows[0].conversion_rate == 0.25
    assert rows[0].conversion_percent == 25.0
    assert rows[1].campaign_id is None


def test_the_campaign_counts_can_be_limited_to_a_period():
    spring = CampaignFactory(name="Spring")
    visit("early-visitor-0001", campaign=spring, at=MONDAY - timedelta(days=10))
    visit("later-visitor-0001", campaign=spring, at=MONDAY)

    rows = selectors.campaign_visitors(seen_from=MONDAY - timedelta(days=1))

    assert [(row.campaign_name, row.visitors) for row in rows] == [("Spring", 1)]


@pytest.fixture
def no_scoring_tasks():
    """Committed events would enqueue scoring tasks, which the suite's real Celery worker (when
    an earlier test started it) would run on the test database while it is being flushed."""
    from leads import signals
    from scoring import receivers

    signals.events_recorded.disconnect(dispatch_uid="scoring.events")
    signals.visitor_linked.disconnect(dispatch_uid="scoring.visitor")
    yield
    signals.events_recorded.connect(receivers.on_events_recorded, dispatch_uid="scoring.events")
    signals.visitor_linked.connect(receivers.on_visitor_linked, dispatch_uid="scoring.visitor")


@pytest.mark.django_db(transaction=True)
def test_no_event_stays_anonymous_when_a_batch_and_the_identification_race(no_scoring_tasks):
    lead = LeadFactory()
    visit("racing-visitor-0001")

    def flush_batch_or_identify(index: int) -> None:
        if index == 0:
            event_services.visitor_link(visitor_id="racing-visitor-0001", lead_id=lead.pk)
        else:
            event_services.events_record_bulk(
                events=[
                    EventRow(kind="page_view", visitor_id="racing-visitor-0001", occurred_at=MONDAY)
                    for _ in range(50)
                ]
            )

    results = run_in_threads(3, flush_batch_or_identify)

    assert results == [None, None, None]
    assert Event.objects.filter(visitor_id="racing-visitor-0001", lead__isnull=True).count() == 0
    assert Event.objects.filter(lead=lead).count() == 101


def test_a_visitor_keeps_its_first_campaign_and_its_last_follows_the_latest_campaign_hit():
    spring, summer, autumn = (CampaignFactory(name=name) for name in ("Spring", "Summer", "Fall"))
    visit("visitor-anna-000001", campaign=spring)
    visit("visitor-anna-000001", campaign=summer, at=MONDAY + timedelta(days=2))
    # A hit without a campaign leaves it; a late retry older than the last hit does not move it.
    visit("visitor-anna-000001", at=MONDAY + timedelta(days=3))
    visit("visitor-anna-000001", campaign=autumn, at=MONDAY + timedelta(days=1))
    # One batch: the campaign of its latest hit, whatever the order of the rows.
    event_services.events_record_bulk(
        events=[
            EventRow(
                kind="page_view",
                visitor_id="visitor-bert-000002",
                campaign_id=campaign.pk,
                occurred_at=MONDAY + timedelta(hours=hours),
            )
            for campaign, hours in [(summer, 5), (autumn, 9), (spring, 1)]
        ]
    )

    anna = Visitor.objects.get(visitor_id="visitor-anna-000001")
    bert = Visitor.objects.get(visitor_id="visitor-bert-000002")
    assert (anna.first_campaign, anna.last_campaign) == (spring, summer)
    assert (bert.first_campaign, bert.last_campaign) == (spring, autumn)

    visit("visitor-anna-000001", campaign=autumn, at=MONDAY + timedelta(days=4))
    anna.refresh_from_db()
    assert (anna.first_campaign, anna.last_campaign) == (spring, autumn)


def test_a_visitor_identified_before_its_first_hit_gets_both_campaigns_from_it():
    event_services.visitor_link(visitor_id="visitor-anna-000001", lead_id=LeadFactory().pk)
    spring = CampaignFactory(name="Spring")

    visit("visitor-anna-000001", campaign=spring, at=MONDAY - timedelta(days=30))

    anna = Visitor.objects.get(visitor_id="visitor-anna-000001")
    assert (anna.first_campaign, anna.last_campaign) == (spring, spring)

"""The flush: buffered page views into the database set-based, idempotently, with kinds from the
tracking rules, campaigns from utm_campaign and the visitors kept per campaign."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from capture import services
from capture.buffer import FileBuffer, get_buffer
from capture.models import TrackingRule
from leadcrm.celery import app as celery_app
from leads import event_services
from leads.models import Event, Visitor
from scoring.models import ScoreEntry
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

ANNA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
BERT = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def view(visitor: str, url: str, **fields) -> None:
    response = Client().post(
        "/t/e",
        data=json.dumps({"visitor_id": visitor, "url": url, **fields}),
        content_type="text/plain",
    )
    assert response.status_code == 204


def stored() -> list[tuple]:
    return list(
        Event.objects.order_by("id").values_list("visitor_id", "kind", "url", "campaign__name")
    )


@pytest.fixture
def rules():
    TrackingRule.objects.all().delete()
    services.tracking_rule_create(pattern="/pricing*", kind="pricing_page_view", position=10)
    services.tracking_rule_create(pattern="/careers*", kind="careers_page_view", position=20)


def test_it_stores_buffered_page_views_with_the_kind_of_the_first_matching_rule(rules):
    services.tracking_rule_create(pattern="/pricing/enterprise", kind="demo_request", position=50)
    services.tracking_rule_create(pattern="/*", kind="download", position=90)
    view(ANNA, "https://www.example.com/pricing/enterprise")
    view(ANNA, "https://www.example.com/Careers/sales")
    view(BERT, "https://www.example.com/blog/post")
    view(BERT, "https://www.example.com")

    assert services.track_flush() == 4

    assert stored() == [
        (ANNA, "pricing_page_view", "https://www.example.com/pricing/enterprise", None),
        (ANNA, "careers_page_view", "https://www.example.com/Careers/sales", None),
        (BERT, "download", "https://www.example.com/blog/post", None),
        (BERT, "download", "https://www.example.com", None),
    ]
    assert get_buffer().pending() == 0


def test_it_makes_a_plain_page_view_when_no_rule_matches(rules):
    view(ANNA, "https://www.example.com/about/pricing")
    view(ANNA, "https://www.example.com/")

    services.track_flush()

    assert stored() == [
        (ANNA, "page_view", "https://www.example.com/about/pricing", None),
        (ANNA, "page_view", "https://www.example.com/", None),
    ]


def test_it_finds_the_campaign_by_name_or_slug_and_keeps_referrer_title_and_utm():
    CampaignFactory(name="Webinar KI 2026")
    view(
        ANNA,
        "https://www.example.com/?utm_campaign=webinar-ki-2026",
        referrer="https://www.google.com/",
        title="Start",
        utm_source="newsletter",
        utm_campaign="webinar-ki-2026",
    )
    view(BERT, "https://www.example.com/", utm_campaign="WEBINAR KI 2026")
    view(BERT, "https://www.example.com/", utm_campaign="unknown-campaign")

    services.track_flush()

    assert [row[3] for row in stored()] == ["Webinar KI 2026", "Webinar KI 2026", None]
    assert Event.objects.order_by("id").first().properties == {
        "referrer": "https://www.google.com/",
        "title": "Start",
        "utm_source": "newsletter",
        "utm_campaign": "webinar-ki-2026",
    }


def test_it_keeps_each_visitor_with_first_and_last_visit_and_first_campaign():
    spring = CampaignFactory(name="Spring")
    CampaignFactory(name="Summer")
    with time_machine.travel(MONDAY, tick=False):
        view(ANNA, "https://www.example.com/")
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        view(ANNA, "https://www.example.com/", utm_campaign="spring")
    services.track_flush()
    with time_machine.travel(datetime(2026, 3, 9, 9, 0, tzinfo=UTC), tick=False):
        view(ANNA, "https://www.example.com/", utm_campaign="summer")
        view(BERT, "https://www.example.com/", utm_campaign="summer")
    services.track_flush()

    anna = Visitor.objects.get(visitor_id=ANNA)
    assert (anna.first_seen, anna.last_seen, anna.first_campaign, anna.lead) == (
        MONDAY,
        datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
        spring,
        None,
    )
    assert Visitor.objects.get(visitor_id=BERT).first_campaign.name == "Summer"


def test_a_flush_repeated_after_a_crash_stores_each_page_view_once():
    for path in ("a", "b", "c"):
        view(ANNA, f"https://www.example.com/{path}")
    buffer = get_buffer()
    # A worker claims the batch and commits it, then dies before acknowledging it.
    batch = buffer.claim(10)
    services._store(batch)
    view(ANNA, "https://www.example.com/d")

    assert services.track_flush() == 1

    assert [row[2] for row in stored()] == [
        "https://www.example.com/a",
        "https://www.example.com/b",
        "https://www.example.com/c",
        "https://www.example.com/d",
    ]
    assert buffer.pending() == 0


def test_a_batch_claimed_by_a_worker_that_died_before_storing_it_is_not_lost():
    view(ANNA, "https://www.example.com/a")
    view(ANNA, "https://www.example.com/b")
    get_buffer().claim(1)  # claimed, never stored

    assert services.track_flush() == 2
    assert len(stored()) == 2


def test_only_one_flush_runs_at_a_time():
    view(ANNA, "https://www.example.com/a")
    buffer = get_buffer()

    with buffer.lock(timeout=60) as held:
        assert held
        assert services.track_flush() == 0
    assert services.track_flush() == 1


def test_it_flushes_in_batches(settings):
    for index in range(5):
        view(ANNA, f"https://www.example.com/{index}")

    assert services.track_flush(batch_size=2) == 5
    assert len(stored()) == 5


def test_the_spool_file_buffer_works_the_same_without_redis(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    assert isinstance(get_buffer(), FileBuffer)
    view(ANNA, "https://www.example.com/a")
    view(BERT, "https://www.example.com/b")
    buffer = get_buffer()
    services._store(buffer.claim(100))  # stored, then the worker died
    view(ANNA, "https://www.example.com/c")

    assert buffer.pending() == 3
    assert services.track_flush() == 1
    assert [row[2] for row in stored()] == [
        "https://www.example.com/a",
        "https://www.example.com/b",
        "https://www.example.com/c",
    ]
    assert buffer.pending() == 0


@time_machine.travel(MONDAY, tick=False)
def test_an_identified_visitors_new_page_views_belong_to_its_lead_and_are_scored(
    django_capture_on_commit_callbacks, rules
):
    lead = LeadFactory()
    view(ANNA, "https://www.example.com/")
    services.track_flush()
    event_services.visitor_link(visitor_id=ANNA, lead_id=lead.pk)
    view(ANNA, "https://www.example.com/pricing")
    view(BERT, "https://www.example.com/pricing")

    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.track_flush()
    finally:
        celery_app.conf.task_always_eager = False

    assert list(Event.objects.order_by("id").values_list("visitor_id", "kind", "lead")) == [
        (ANNA, "page_view", lead.pk),
        (ANNA, "pricing_page_view", lead.pk),
        (BERT, "pricing_page_view", None),
    ]
    # The starter profile gives a pricing page view 15 points; the anonymous one is not scored.
    assert list(ScoreEntry.objects.values_list("lead", "event__kind", "points")) == [
        (lead.pk, "pricing_page_view", 15)
    ]

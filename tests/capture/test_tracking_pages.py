"""The tracking settings page: the snippet, the rules (marketers and admins edit them) and the
visitors per campaign."""

import pytest

from capture.models import TrackingRule
from capture.starter import ensure_starter_rules
from capture.views import tracking_script
from leads import event_services
from leads.event_services import EventRow
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

URL = "/tracking/"


@pytest.fixture
def no_rules():
    TrackingRule.objects.all().delete()


def test_it_starts_with_pricing_and_careers_rules_in_english_and_german(no_rules):
    assert ensure_starter_rules(rule_model=TrackingRule) == 5
    assert ensure_starter_rules(rule_model=TrackingRule) == 0

    assert list(TrackingRule.objects.values_list("pattern", "kind")) == [
        ("/pricing*", "pricing_page_view"),
        ("/preise*", "pricing_page_view"),
        ("/careers*", "careers_page_view"),
        ("/karriere*", "careers_page_view"),
        ("/jobs*", "careers_page_view"),
    ]


def test_it_shows_the_snippet_with_the_versioned_script_url(client, marketer, no_rules):
    client.force_login(marketer)
    _body, version = tracking_script()

    response = client.get(URL)

    assert response.status_code == 200
    assert (
        f"&lt;script async src=&quot;http://testserver/t/lc.js?v={version}&quot;&gt;&lt;/script&gt;"
        in response.content.decode()
    )


def test_it_shows_visitors_per_campaign(client, marketer):
    spring = CampaignFactory(name="Spring fair")
    event_services.events_record_bulk(
        events=[
            EventRow(
                kind="page_view",
                visitor_id=f"spring-visitor-{number:04}",
                campaign_id=spring.pk,
                occurred_at=spring.created_at,
            )
            for number in range(3)
        ]
    )
    event_services.visitor_link(visitor_id="spring-visitor-0000", lead_id=LeadFactory().pk)
    client.force_login(marketer)

    response = client.get(URL)

    rows = response.context["campaign_rows"]
    assert [(row.campaign_name, row.visitors, row.identified) for row in rows] == [
        ("Spring fair", 3, 1)
    ]
    assert "33.3 %" in response.content.decode()


@pytest.mark.parametrize("role_user", ["sales_rep", "sales_manager", "no_role_user"])
def test_it_is_for_marketers_and_admins_only(client, request, role_user):
    client.force_login(request.getfixturevalue(role_user))

    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"pattern": "/x*", "kind": "download", "position": 1}).status_code == 403
    )


def test_it_sends_anonymous_users_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_marketer_adds_edits_and_deletes_a_rule(client, marketer, no_rules):
    client.force_login(marketer)

    added = client.post(
        URL, {"pattern": " /webinar* ", "kind": "webinar_registered", "position": 5}
    )
    rule = TrackingRule.objects.get()
    edited = client.post(
        f"/tracking/rules/{rule.pk}/edit/",
        {"pattern": "/webinare*", "kind": "webinar_registered", "position": 7},
    )
    rule.refresh_from_db()
    confirm = client.get(f"/tracking/rules/{rule.pk}/delete/")
    deleted = client.post(f"/tracking/rules/{rule.pk}/delete/")

    assert added.status_code == edited.status_code == deleted.status_code == 302
    assert (rule.pattern, rule.kind, rule.position) == ("/webinare*", "webinar_registered", 7)
    assert "/webinare*" in confirm.content.decode()
    assert TrackingRule.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"pattern": "pricing*", "kind": "pricing_page_view", "position": 1}, "pattern"),
        ({"pattern": "/a b", "kind": "pricing_page_view", "position": 1}, "pattern"),
        ({"pattern": "/" + "a" * 200, "kind": "pricing_page_view", "position": 1}, "pattern"),
        ({"pattern": "/pricing*", "kind": "teleport", "position": 1}, "kind"),
        ({"pattern": "pricing", "kind": "", "position": 1}, "pattern kind"),
        ({"pattern": "/pricing*", "kind": "pricing_page_view", "position": -1}, "position"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(client, marketer, no_rules, data, field):
    client.force_login(marketer)

    response = client.post(URL, data)

    assert response.status_code == 400
    assert sorted(response.context["form"].errors) == sorted(field.split())
    assert TrackingRule.objects.count() == 0

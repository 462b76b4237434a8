"""Versions of the scoring rules: who saved what, and what changed against the one before."""

import pytest

from scoring import proposals, services
from scoring import rescoring as rescorings
from scoring.models import ProfileVersion
from scoring.selectors import snapshot_changes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/scoring/versions/"


def save(change, by_user) -> None:
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    rescoring = rescorings.rescoring_start(kind="apply", proposal=proposal, by_user=by_user)
    rescorings.rescoring_run(rescoring_id=rescoring.pk)


def rule(proposal: dict, key: str, **match) -> dict:
    return next(r for r in proposal[key] if all(r[name] == value for name, value in match.items()))


def a_bigger_change(proposal: dict) -> None:
    proposal["profile"]["half_life_days"] = 21
    proposal["profile"]["hot_ranks"] = ["A1", "A2"]
    rule(proposal, "grade_rules", value="c_level, vp")["points"] = 25
    rule(proposal, "grade_rules", field="country")["value"] = "DE, AT"
    proposal["behaviour_rules"] = [
        r for r in proposal["behaviour_rules"] if r["name"] != "Careers page"
    ]
    rule(proposal, "behaviour_rules", name="Pricing page")["frequency"] = "every_time"
    proposal["behaviour_rules"].append(
        {
            "id": None,
            "name": "Competitor visit",
            "event_kind": "page_view",
            "pattern": "*competitor.com*",
            "points": -15,
            "frequency": "once_ever",
            "cap_points": None,
            "cap_days": None,
        }
    )


def test_it_describes_each_change_in_words():
    before = proposals.snapshot(services.active_profile())
    after = proposals.snapshot(services.active_profile())
    a_bigger_change(after)
    after["behaviour_rules"][-1]["id"] = 999  # as saved

    assert snapshot_changes(before, after) == [
        "Half-life (days): 30 → 21",
        "Hot ranks: A1, A2, B1 → A1, A2",
        "Grade rule ‘Seniority is one of c_level, vp’ points 30 → 25",
        "Grade rule ‘Country is one of DE, AT, CH’ value DE, AT, CH → DE, AT",
        "Behaviour rule ‘Pricing page’ fires once per day → every time",
        "Behaviour rule ‘Competitor visit’ added (-15 points)",
        "Behaviour rule ‘Careers page’ deleted",
    ]


def test_it_notices_rules_put_in_another_order():
    before = proposals.snapshot(services.active_profile())
    after = proposals.snapshot(services.active_profile())
    after["grade_rules"].reverse()

    assert snapshot_changes(before, after) == ["Grade rule order changed"]


def test_it_shows_the_starter_profile_as_the_starting_point(client, marketer):
    client.force_login(marketer)

    html = client.get(URL).content.decode()

    assert html.count('data-testid="version"') == 1
    assert "The starter profile: the starting point." in html
    assert "Version 1 is in force." in html


def test_it_lists_each_version_with_who_when_and_what_changed(client, marketer):
    grace = UserFactory(username="grace", first_name="Grace", last_name="Hopper")
    save(a_bigger_change, grace)
    save(lambda p: p["profile"].update(grade_b_min=45), grace)
    client.force_login(marketer)

    html = client.get(URL).content.decode()

    rows = html.split('data-testid="version"')[1:]
    assert len(rows) == 3
    assert "<strong>v3</strong>" in rows[0]
    assert "Grace Hopper" in rows[0]
    assert "<li>Grade B from: 50 → 45</li>" in rows[0]
    assert "<strong>v2</strong>" in rows[1]
    assert "<li>Behaviour rule ‘Careers page’ deleted</li>" in rows[1]
    assert "<li>Half-life (days): 30 → 21</li>" in rows[1]
    assert "<strong>v1</strong>" in rows[2]
    assert "The starter profile: the starting point." in rows[2]


def test_it_costs_the_same_queries_however_many_versions(
    client, marketer, admin_user, django_assert_num_queries
):
    save(lambda p: p["profile"].update(grade_b_min=45), admin_user)
    client.force_login(marketer)
    client.get(URL)
    with django_assert_num_queries(7):
        client.get(URL)

    for half_life in (10, 20, 40, 50):
        save(lambda p, h=half_life: p["profile"].update(half_life_days=h), admin_user)
    assert ProfileVersion.objects.count() == 6
    with django_assert_num_queries(7):
        client.get(URL)

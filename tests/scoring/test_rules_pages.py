"""The scoring rules page: admins edit and preview, everyone else reads; errors on their rows."""

import re

import pytest
from django.urls import reverse

from scoring import proposals, services
from scoring import rescoring as rescorings
from scoring.models import Rescoring
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/scoring/"
RANKS = [grade + band for grade in "ABCD" for band in "1234"]


def form_data(proposal: dict | None = None, *, base_version: int = 1, extra: int = 1) -> dict:
    """What the browser posts for ``proposal`` (default: the rules in force), each formset with
    ``extra`` empty rows."""
    proposal = proposal or proposals.snapshot(services.active_profile())
    profile = proposal["profile"]
    data = {
        "base_version": base_version,
        **{
            name: profile[name]
            for name in (
                "name",
                "grade_a_min",
                "grade_b_min",
                "grade_c_min",
                "band_1_min",
                "band_2_min",
                "band_3_min",
                "half_life_days",
                "mql_min_score",
            )
        },
        "mql_grades": list(profile["mql_grades"]),
    }
    for rank in RANKS:
        data[f"rank_{rank}"] = (
            "hot"
            if rank in profile["hot_ranks"]
            else "warm"
            if rank in profile["warm_ranks"]
            else "cold"
        )
    for prefix, key in (("grade", "grade_rules"), ("behaviour", "behaviour_rules")):
        rules = proposal[key]
        data[f"{prefix}-TOTAL_FORMS"] = len(rules) + extra
        data[f"{prefix}-INITIAL_FORMS"] = len(rules)
        for index, rule in enumerate(rules):
            for name, value in rule.items():
                data[f"{prefix}-{index}-{name}"] = "" if value is None else value
    for index in range(len(proposal["behaviour_rules"]), len(proposal["behaviour_rules"]) + extra):
        # An empty row's "fires" select has its default selected, as a browser sends it.
        data[f"behaviour-{index}-frequency"] = "every_time"
    return data


def test_it_lets_an_admin_edit_every_part_of_the_profile(client, admin_user):
    client.force_login(admin_user)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="grade_b_min" value="50"' in html
    assert re.search(r'<select name="rank_A1"[^>]*>', html)
    assert "disabled" not in re.search(r'<select name="rank_A1"[^>]*>', html).group(0)
    assert 'name="grade-9-field"' in html  # an empty row after the nine starter rules
    assert 'name="behaviour-14-name"' in html  # and after the fourteen behaviour rules
    assert "Preview changes" in html
    assert 'href="/scoring/"' in html  # the "Scoring" link of the navigation


@pytest.mark.parametrize("role", ["marketer", "sales_rep", "sales_manager"])
def test_it_shows_other_roles_the_rules_read_only(client, request, role):
    client.force_login(request.getfixturevalue(role))

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only admins can change the scoring rules." in html
    assert re.search(r'<input type="number" name="grade_b_min" value="50"[^>]*disabled', html)
    assert 'name="grade-9-field"' not in html  # no empty row to fill in
    assert "Preview changes" not in html
    assert "Delete" not in html


@pytest.mark.parametrize("role", ["marketer", "sales_rep", "sales_manager"])
def test_it_refuses_a_change_from_other_roles(client, request, role):
    client.force_login(request.getfixturevalue(role))
    data = form_data()
    data["grade_b_min"] = 45

    response = client.post(URL, data)

    assert response.status_code == 403
    assert not Rescoring.objects.exists()


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_previews_the_changed_profile_and_rules(client, admin_user):
    client.force_login(admin_user)
    data = form_data()
    data["grade_b_min"] = "45"
    data["half_life_days"] = "21"
    data["rank_A3"] = "hot"
    data["rank_C2"] = "cold"
    data["mql_grades"] = ["A"]
    data["grade-1-points"] = "25"  # director: 20 → 25
    data["grade-8-DELETE"] = "on"  # country DE, AT, CH
    data.update(
        {
            "behaviour-14-name": "Competitor visit",
            "behaviour-14-event_kind": "page_view",
            "behaviour-14-pattern": "*competitor.com*",
            "behaviour-14-points": "-15",
            "behaviour-14-frequency": "once_ever",
        }
    )

    response = client.post(URL, data)

    rescoring = Rescoring.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/scoring/rescorings/{rescoring.pk}/"
    assert (rescoring.kind, rescoring.status, rescoring.base_version, rescoring.created_by) == (
        "preview",
        "queued",
        1,
        admin_user,
    )
    profile = rescoring.proposal["profile"]
    assert (profile["grade_b_min"], profile["half_life_days"], profile["mql_grades"]) == (
        45,
        21,
        "A",
    )
    assert profile["hot_ranks"] == ["A1", "A2", "A3", "B1"]
    assert profile["warm_ranks"] == ["B2", "B3", "C1"]
    grade_rules = rescoring.proposal["grade_rules"]
    assert len(grade_rules) == 8
    assert (grade_rules[1]["value"], grade_rules[1]["points"]) == ("director", 25)
    assert "DE, AT, CH" not in [rule["value"] for rule in grade_rules]
    assert rescoring.proposal["behaviour_rules"][-1] == {
        "id": None,
        "name": "Competitor visit",
        "event_kind": "page_view",
        "pattern": "*competitor.com*",
        "points": -15,
        "frequency": "once_ever",
        "cap_points": None,
        "cap_days": None,
    }
    # Nothing is saved by a preview.
    assert services.active_profile().grade_b_min == 50


def test_it_puts_the_services_errors_on_the_rows_they_name(client, admin_user):
    client.force_login(admin_user)
    data = form_data()
    data["grade-0-DELETE"] = "on"  # the first row is left out of the proposal ...
    data["grade-2-operator"] = "gte"  # ... so the service names this row grade_rules.1
    data["behaviour-3-cap_points"] = "20"  # a cap without its period
    data["band_2_min"] = "80"  # above band 1

    response = client.post(URL, data)

    assert response.status_code == 400
    forms = response.context["forms"]
    grade_errors = [form.errors for form in forms.grade_rules.forms]
    assert grade_errors[2] == {
        "operator": ["Only annual revenue is compared with “at least” or “at most”."]
    }
    assert [index for index, errors in enumerate(grade_errors) if errors] == [2]
    behaviour_errors = [form.errors for form in forms.behaviour_rules.forms]
    assert behaviour_errors[3] == {"cap_days": ["Give a cap with its period."]}
    assert [index for index, errors in enumerate(behaviour_errors) if errors] == [3]
    assert forms.profile.errors == {"band_2_min": ["Band thresholds must fall from 1 to 3."]}
    html = response.content.decode()
    assert "Grade rule 3 · Operator: Only annual revenue is compared" in html
    assert "Behaviour rule 4 · Per (days): Give a cap with its period." in html
    # What the admin typed is still there.
    assert 'name="behaviour-3-cap_points" value="20"' in html
    assert not Rescoring.objects.exists()


def test_it_puts_a_form_error_on_its_row_before_asking_the_service(client, admin_user):
    client.force_login(admin_user)
    data = form_data()
    data["behaviour-5-points"] = "many"

    response = client.post(URL, data)

    assert response.status_code == 400
    forms = response.context["forms"]
    assert forms.behaviour_rules.forms[5].errors == {"points": ["Enter a whole number."]}
    assert not Rescoring.objects.exists()


def test_it_refuses_a_change_made_on_an_older_version(client, admin_user):
    rescorings.rescoring_run(
        rescoring_id=rescorings.rescoring_start(
            kind="apply",
            proposal=proposals.snapshot(services.active_profile()),
            by_user=UserFactory(username="grace"),
        ).pk
    )
    client.force_login(admin_user)
    data = form_data(base_version=1)
    data["grade_b_min"] = "45"

    response = client.post(URL, data)

    assert response.status_code == 400
    assert (
        "Someone saved the scoring rules meanwhile. Reload them and make your change again."
        in response.content.decode()
    )
    assert Rescoring.objects.filter(kind="preview").count() == 0


def test_it_adds_an_empty_row_without_javascript(client, admin_user):
    client.force_login(admin_user)
    data = form_data()
    data["grade-9-field"] = "city"
    data["grade-9-operator"] = "in"
    data["grade-9-value"] = "Berlin"
    data["grade-9-points"] = "5"
    data["add"] = "grade"

    response = client.post(URL, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="grade-9-value" value="Berlin"' in html
    assert 'name="grade-10-field"' in html
    assert 'name="grade-11-field"' not in html
    assert not Rescoring.objects.exists()


def test_it_offers_the_rules_of_a_preview_to_change_again(client, admin_user):
    proposal = proposals.snapshot(services.active_profile())
    proposal["profile"]["grade_b_min"] = 45
    proposal["grade_rules"].append(
        {"id": None, "field": "city", "operator": "in", "value": "Munich", "points": 5}
    )
    preview = rescorings.rescoring_start(kind="preview", proposal=proposal, by_user=admin_user)
    client.force_login(admin_user)

    response = client.get(f"{URL}?from={preview.pk}")

    html = response.content.decode()
    assert 'name="grade_b_min" value="45"' in html
    assert 'name="grade-9-value" value="Munich"' in html
    assert 'name="grade-INITIAL_FORMS" value="10"' in html
    assert f"The rules of preview #{preview.pk}, made on version 1." in html


def test_it_costs_the_same_queries_however_many_rules(
    client, admin_user, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get(URL)  # the session and permissions, once

    with django_assert_num_queries(7):
        assert client.get(URL).status_code == 200
    proposal = proposals.snapshot(services.active_profile())
    proposal["grade_rules"] += [
        {"id": None, "field": "city", "operator": "in", "value": f"City {n}", "points": n}
        for n in range(1, 21)
    ]
    rescorings.rescoring_run(
        rescoring_id=rescorings.rescoring_start(
            kind="apply", proposal=proposal, by_user=admin_user
        ).pk
    )
    with django_assert_num_queries(7):
        assert client.get(URL).status_code == 200


def test_it_links_to_the_page_from_the_navigation_for_every_role(client, marketer):
    client.force_login(marketer)

    response = client.get(reverse("leads:list"))

    assert f'href="{URL}"' in response.content.decode()

"""The scoring API for admins: the profile, previews and saves, their progress, versions."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import event_services
from leads.models import Lead
from scoring import rescoring as rescorings
from scoring import services
from scoring.models import MqlReview, ProfileVersion, Rescoring
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PROFILE = "/api/v1/scoring/profile/"
RESCORINGS = "/api/v1/scoring/rescorings/"
VERSIONS = "/api/v1/scoring/versions/"


@pytest.fixture(autouse=True)
def _clear_progress():
    cache.clear()


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return api_for(admin_user)


def the_profile(api: APIClient) -> tuple[dict, int]:
    body = api.get(PROFILE).json()
    proposal = {key: body[key] for key in ("profile", "grade_rules", "behaviour_rules")}
    return proposal, body["version"]


def run_task(rescoring_id: int) -> None:
    """What the Celery worker does with the queued task."""
    rescorings.rescoring_run(rescoring_id=rescoring_id)


def test_it_gives_the_profile_in_force_with_its_version(admin_api):
    response = admin_api.get(PROFILE)

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert body["updated_by"] is None
    assert body["profile"] == {
        "name": "Default",
        "grade_a_min": 75,
        "grade_b_min": 50,
        "grade_c_min": 25,
        "band_1_min": 75.0,
        "band_2_min": 50.0,
        "band_3_min": 25.0,
        "half_life_days": 30,
        "hot_ranks": ["A1", "A2", "B1"],
        "warm_ranks": ["A3", "B2", "B3", "C1", "C2"],
        "mql_grades": "AB",
        "mql_min_score": 50.0,
    }
    assert len(body["grade_rules"]) == 9
    first = body["grade_rules"][0]
    assert {k: v for k, v in first.items() if k != "id"} == {
        "field": "seniority",
        "operator": "in",
        "value": "c_level, vp",
        "points": 30,
    }
    assert [rule["name"] for rule in body["behaviour_rules"]][:3] == [
        "Pricing page",
        "Demo request",
        "Quote request",
    ]


@pytest.mark.parametrize("role", ["marketer", "sales_rep", "sales_manager"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", PROFILE),
        ("post", RESCORINGS),
        ("get", RESCORINGS + "{id}/"),
        ("post", RESCORINGS + "{id}/save/"),
        ("get", VERSIONS),
    ],
)
def test_it_refuses_every_role_but_admin(request, role, method, path, admin_user):
    rescoring = rescorings.rescoring_start(
        kind="preview",
        proposal=services_snapshot(),
        by_user=admin_user,
    )
    api = api_for(request.getfixturevalue(role))

    response = getattr(api, method)(path.format(id=rescoring.pk), {}, format="json")

    assert response.status_code == 403
    assert Rescoring.objects.count() == 1


def services_snapshot() -> dict:
    from scoring import proposals

    return proposals.snapshot(services.active_profile())


def test_it_asks_anonymous_clients_to_sign_in():
    assert APIClient().get(PROFILE).status_code == 401


def test_it_previews_then_saves_exactly_what_the_preview_showed(admin_api):
    """Four leads with hand-computed fit and scores; lowering grade B from 50 to 45 makes the
    director a B and, engaged as she is, an MQL; the cooled MQL is flagged either way."""
    with time_machine.travel(MONDAY, tick=False):
        # c_level 30 + "CEO" 15 + DE 10 = 55: B; nothing done: B4, cold.
        ceo = LeadFactory(
            email="ceo@example.com",
            seniority="c_level",
            job_title="CEO",
            country="DE",
            company=None,
        )
        # director 20 + "Director" 15 + DE 10 = 45: C; demo 40 + webinar 20 = 60: C2, warm.
        director = LeadFactory(
            email="director@example.com",
            seniority="director",
            job_title="Director Sales",
            country="DE",
            company=None,
        )
        # manager 10, US: D; 0 points: D4.
        buyer = LeadFactory(
            email="buyer@example.com",
            seniority="manager",
            job_title="Buyer",
            country="US",
            company=None,
        )
        # An MQL from before: 55, B; demo 40: B3, below the MQL condition (50).
        cooled = LeadFactory(
            email="cooled@example.com",
            seniority="c_level",
            job_title="CEO",
            country="DE",
            company=None,
            stage="mql",
        )
        for lead in (ceo, director, buyer, cooled):
            services.lead_rescore_fit(lead_id=lead.pk)
        for lead, kind in ((director, "demo_request"), (director, "webinar_attended")):
            event = event_services.event_record(lead=lead, kind=kind, occurred_at=MONDAY)
            services.event_score(event_id=event.pk)
        event = event_services.event_record(lead=cooled, kind="demo_request", occurred_at=MONDAY)
        services.event_score(event_id=event.pk)
        before = stored()
        assert before == {
            "ceo@example.com": ("B", 55, "B4", "cold", 0.0, "unqualified"),
            "director@example.com": ("C", 45, "C2", "warm", 60.0, "unqualified"),
            "buyer@example.com": ("D", 10, "D4", "cold", 0.0, "unqualified"),
            "cooled@example.com": ("B", 55, "B3", "warm", 40.0, "mql"),
        }

        proposal, version = the_profile(admin_api)
        proposal["profile"]["grade_b_min"] = 45
        response = admin_api.post(
            RESCORINGS,
            {"kind": "preview", "proposal": proposal, "base_version": version},
            format="json",
        )
        assert response.status_code == 202
        preview_id = response.json()["id"]
        assert response["Location"] == f"/api/v1/scoring/rescorings/{preview_id}/"
        assert response.json()["status"] == "queued"
        assert response.json()["result"] is None
        run_task(preview_id)
        preview = admin_api.get(f"{RESCORINGS}{preview_id}/").json()

        assert stored() == before  # a preview keeps nothing
        saving = admin_api.post(f"{RESCORINGS}{preview_id}/save/")
        assert saving.status_code == 202
        assert saving.json()["kind"] == "apply"
        run_task(saving.json()["id"])
        saved = admin_api.get(f"{RESCORINGS}{saving.json()['id']}/").json()

    expected = {
        "leads": 4,
        "grade_changed": 1,
        "rank_changed": 1,
        "temperature_changed": 0,
        "become_mql": 1,
        "flagged": 1,
        "grade_moves": {"C→B": 1},
    }
    assert (preview["status"], preview["progress"]) == ("done", {"done": 1, "total": 1})
    assert {k: v for k, v in preview["result"].items() if k != "samples"} == expected
    assert {k: v for k, v in saved["result"].items() if k != "samples"} == expected
    assert [(s["email"], s["new_rank"], s["new_score"]) for s in preview["result"]["samples"]] == [
        ("director@example.com", "B2", 60.0)
    ]
    # Read back from the database on its own: the save did what the preview said.
    after = stored()
    assert after == {
        "ceo@example.com": ("B", 55, "B4", "cold", 0.0, "unqualified"),
        "director@example.com": ("B", 45, "B2", "warm", 60.0, "mql"),
        "buyer@example.com": ("D", 10, "D4", "cold", 0.0, "unqualified"),
        "cooled@example.com": ("B", 55, "B3", "warm", 40.0, "mql"),
    }
    changed = [email for email in before if before[email][0] != after[email][0]]
    assert len(changed) == preview["result"]["grade_changed"]
    promoted = [
        email
        for email in before
        if before[email][5] != "mql" and after[email][5] == "mql"  # stage
    ]
    assert len(promoted) == preview["result"]["become_mql"]
    assert MqlReview.objects.filter(lead__email="cooled@example.com").count() == 1
    assert services.active_profile().version == 2


def stored() -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in Lead.objects.values_list(
            "email",
            "grade",
            "score__fit_points",
            "rank",
            "temperature",
            "score__behaviour_score",
            "stage",
        )
    }


def test_it_names_the_path_of_a_field_the_service_refuses(admin_api):
    proposal, version = the_profile(admin_api)
    proposal["grade_rules"][1]["operator"] = "gte"  # seniority is not a number
    proposal["profile"]["grade_c_min"] = 60  # above grade B

    response = admin_api.post(
        RESCORINGS,
        {"kind": "preview", "proposal": proposal, "base_version": version},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "proposal.profile.grade_b_min": ["Grade thresholds must fall from A to C."],
        "proposal.grade_rules.1.operator": [
            "Only annual revenue is compared with “at least” or “at most”."
        ],
    }
    assert not Rescoring.objects.exists()


def test_it_names_a_field_of_the_wrong_shape(admin_api):
    proposal, version = the_profile(admin_api)
    proposal["behaviour_rules"][2]["points"] = "forty"
    del proposal["profile"]["half_life_days"]

    response = admin_api.post(
        RESCORINGS,
        {"kind": "preview", "proposal": proposal, "base_version": version},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["proposal"]
    assert errors["profile"] == {"half_life_days": ["This field is required."]}
    assert errors["behaviour_rules"] == {"2": {"points": ["A valid integer is required."]}}
    assert not Rescoring.objects.exists()


def test_it_refuses_a_proposal_made_on_an_older_version(admin_api):
    proposal, _version = the_profile(admin_api)
    saved = admin_api.post(
        RESCORINGS, {"kind": "apply", "proposal": proposal, "base_version": 1}, format="json"
    )
    run_task(saved.json()["id"])

    response = admin_api.post(
        RESCORINGS, {"kind": "preview", "proposal": proposal, "base_version": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "base_version": [
            "Someone saved the scoring rules meanwhile. Reload them and make your change again."
        ]
    }


def test_it_refuses_to_save_an_unfinished_or_overtaken_preview(admin_api):
    proposal, version = the_profile(admin_api)
    body = {"kind": "preview", "proposal": proposal, "base_version": version}
    first = admin_api.post(RESCORINGS, body, format="json").json()["id"]
    second = admin_api.post(RESCORINGS, body, format="json").json()["id"]

    unfinished = admin_api.post(f"{RESCORINGS}{first}/save/")
    assert unfinished.status_code == 400
    assert unfinished.json() == {"preview": ["The preview has not finished yet."]}

    run_task(first)
    run_task(second)
    run_task(admin_api.post(f"{RESCORINGS}{second}/save/").json()["id"])
    overtaken = admin_api.post(f"{RESCORINGS}{first}/save/")

    assert overtaken.status_code == 400
    assert list(overtaken.json()) == ["base_version"]
    assert Rescoring.objects.filter(kind="apply").count() == 1


def test_it_answers_404_for_an_unknown_rescoring_or_saving_a_save(admin_api):
    proposal, _version = the_profile(admin_api)
    saved = admin_api.post(
        RESCORINGS, {"kind": "apply", "proposal": proposal, "base_version": 1}, format="json"
    ).json()["id"]

    assert admin_api.get(f"{RESCORINGS}{saved + 1}/").status_code == 404
    assert admin_api.post(f"{RESCORINGS}{saved}/save/").status_code == 404


def test_it_reports_progress_while_it_runs(admin_api):
    proposal, _version = the_profile(admin_api)
    rescoring_id = admin_api.post(
        RESCORINGS, {"kind": "preview", "proposal": proposal, "base_version": 1}, format="json"
    ).json()["id"]
    Rescoring.objects.filter(pk=rescoring_id).update(status="running")
    cache.set(f"scoring:rescoring:{rescoring_id}", (2, 5))

    body = admin_api.get(f"{RESCORINGS}{rescoring_id}/").json()

    assert (body["status"], body["progress"], body["result"]) == (
        "running",
        {"done": 2, "total": 5},
        None,
    )


def test_it_lists_the_versions_with_what_changed(admin_api, admin_user):
    proposal, _version = the_profile(admin_api)
    proposal["profile"]["half_life_days"] = 21
    saved = admin_api.post(
        RESCORINGS, {"kind": "apply", "proposal": proposal, "base_version": 1}, format="json"
    ).json()["id"]
    run_task(saved)

    response = admin_api.get(VERSIONS)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(v["version"], v["saved_by"], v["changes"]) for v in results] == [
        (2, "admin", ["Half-life (days): 30 → 21"]),
        (1, None, []),
    ]
    assert results[0]["snapshot"]["profile"]["half_life_days"] == 21


def test_it_lists_versions_in_the_same_queries_however_many(
    admin_api, admin_user, django_assert_num_queries
):
    def save(half_life: int) -> None:
        proposal, version = the_profile(admin_api)
        proposal["profile"]["half_life_days"] = half_life
        rescoring = rescorings.rescoring_start(
            kind="apply", proposal=proposal, by_user=admin_user, base_version=version
        )
        run_task(rescoring.pk)

    save(21)
    with django_assert_num_queries(6):
        admin_api.get(VERSIONS)
    for half_life in (10, 20, 40):
        save(half_life)
    assert ProfileVersion.objects.count() == 5
    with django_assert_num_queries(6):
        assert len(admin_api.get(VERSIONS).json()["results"]) == 5

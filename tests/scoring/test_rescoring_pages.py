"""The preview / rescoring page: progress while it runs, the outcome, saving, failures."""

import pytest
from django.core.cache import cache

from leads.models import Lead
from scoring import proposals, services
from scoring import rescoring as rescorings
from scoring.models import Rescoring
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

STALE_EN = "Someone saved the scoring rules meanwhile. Reload them and make your change again."
STALE_DE = (
    "Jemand hat die Bewertungsregeln inzwischen gespeichert. Laden Sie sie neu und nehmen Sie "
    "Ihre Änderung erneut vor."
)


@pytest.fixture(autouse=True)
def _clear_progress():
    cache.clear()


def started(kind: str = "preview", change=None, by_user=None) -> Rescoring:
    proposal = proposals.snapshot(services.active_profile())
    if change:
        change(proposal)
    return rescorings.rescoring_start(
        kind=kind, proposal=proposal, by_user=by_user or UserFactory(username="grace")
    )


def finished(rescoring: Rescoring) -> Rescoring:
    rescorings.rescoring_run(rescoring_id=rescoring.pk)
    rescoring.refresh_from_db()
    return rescoring


def lower_grade_b(proposal: dict) -> None:
    proposal["profile"]["grade_b_min"] = 45


def director_in_germany(**fields) -> Lead:
    """director 20 + "Director" in the title 15 + DE 10 = 45 fit points: C under the starter
    rules, B from 45."""
    lead = LeadFactory(
        seniority="director", job_title="Director Sales", country="DE", company=None, **fields
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    return lead


def test_it_shows_the_progress_and_polls_for_more_while_it_runs(client, admin_user):
    rescoring = started()
    client.force_login(admin_user)

    response = client.get(f"/scoring/rescorings/{rescoring.pk}/")

    html = response.content.decode()
    assert "Waiting for a worker" in html
    assert '<progress class="progress" max="1" value="0"' in html
    assert 'hx-trigger="every 1s"' in html
    assert f'href="/scoring/rescorings/{rescoring.pk}/">Reload</a>' in html

    Rescoring.objects.filter(pk=rescoring.pk).update(status="running")
    cache.set(f"scoring:rescoring:{rescoring.pk}", (3, 4))
    fragment = client.get(f"/scoring/rescorings/{rescoring.pk}/", headers={"HX-Request": "true"})

    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="rescoring-status" data-status="running"')
    assert "<html" not in html
    assert '<progress class="progress" max="4" value="3"' in html
    assert "3 of 4 steps · 75 %" in html


def test_it_shows_what_a_finished_preview_would_change(client, admin_user):
    climber = director_in_germany(first_name="Clara", last_name="Climber")
    preview = finished(started(change=lower_grade_b))
    client.force_login(admin_user)

    response = client.get(f"/scoring/rescorings/{preview.pk}/")

    html = response.content.decode()
    assert 'hx-trigger="every 1s"' not in html  # finished: no more polling
    assert "If saved, of 1 lead …" in html
    assert '<dd data-testid="grade_changed">1</dd>' in html
    assert '<dd data-testid="rank_changed">1</dd>' in html
    assert '<dd data-testid="temperature_changed">0</dd>' in html
    assert '<dd data-testid="become_mql">0</dd>' in html
    assert '<dd data-testid="flagged">0</dd>' in html
    assert "C→B <strong>1</strong>" in html
    assert f'href="/leads/{climber.pk}/">Clara Climber</a>' in html
    assert '<span class="change-old">C4</span> → <span class="change-new">B4</span>' in html
    assert "Save these rules and rescore all leads" in html
    assert f'href="/scoring/?from={preview.pk}">Change again</a>' in html


def test_it_shows_a_sales_rep_the_outcome_without_other_reps_leads(client, sales_rep, other_rep):
    director_in_germany(first_name="Clara", last_name="Climber", owner=other_rep, stage="sql")
    preview = finished(started(change=lower_grade_b))
    client.force_login(sales_rep)

    response = client.get(f"/scoring/rescorings/{preview.pk}/")

    html = response.content.decode()
    assert '<dd data-testid="grade_changed">1</dd>' in html
    assert "Clara" not in html
    assert "1 sample lead is not one you may see." in html
    assert "Save these rules" not in html
    assert "Change again" not in html


def test_it_saves_a_preview_and_shows_the_rescoring(client, admin_user):
    climber = director_in_germany()
    preview = finished(started(change=lower_grade_b))
    client.force_login(admin_user)

    response = client.post(f"/scoring/rescorings/{preview.pk}/save/")

    saved = Rescoring.objects.get(kind="apply")
    assert response.status_code == 302
    assert response["Location"] == f"/scoring/rescorings/{saved.pk}/"
    assert (saved.base_version, saved.created_by, saved.proposal) == (
        1,
        admin_user,
        preview.proposal,
    )
    finished(saved)
    page = client.get(response["Location"]).content.decode()
    assert "The rules are being saved and every lead rescored." in page
    assert "Done: of 1 lead …" in page
    assert '<dd data-testid="grade_changed">1</dd>' in page
    climber.refresh_from_db()
    assert (climber.grade, climber.rank) == ("B", "B4")


@pytest.mark.parametrize("role", ["marketer", "sales_rep", "sales_manager"])
def test_it_lets_only_admins_save(client, request, role):
    preview = finished(started(change=lower_grade_b))
    client.force_login(request.getfixturevalue(role))

    response = client.post(f"/scoring/rescorings/{preview.pk}/save/")

    assert response.status_code == 403
    assert not Rescoring.objects.filter(kind="apply").exists()


def test_it_refuses_to_save_a_preview_someone_saved_over(client, admin_user):
    first = finished(started(change=lower_grade_b))
    second = finished(started(change=lambda p: p["profile"].update(half_life_days=20)))
    finished(rescorings.rescoring_save_preview(preview_id=second.pk, by_user=admin_user))
    client.force_login(admin_user)

    page = client.get(f"/scoring/rescorings/{first.pk}/").content.decode()
    assert "Someone saved the scoring rules after this preview." in page
    assert "Save these rules" not in page
    response = client.post(f"/scoring/rescorings/{first.pk}/save/", follow=True)

    assert STALE_EN in response.content.decode()
    assert Rescoring.objects.filter(kind="apply").count() == 1
    assert services.active_profile().grade_b_min == 50


def test_it_says_why_a_rescoring_failed_in_the_readers_language(client, admin_user):
    rescoring = started()
    Rescoring.objects.filter(pk=rescoring.pk).update(status="failed", error=STALE_EN)
    client.force_login(admin_user)

    english = client.get(f"/scoring/rescorings/{rescoring.pk}/").content.decode()
    german = client.get(
        f"/scoring/rescorings/{rescoring.pk}/", headers={"Accept-Language": "de"}
    ).content.decode()

    assert f"The preview failed.</strong> {STALE_EN}" in english
    assert STALE_DE in german


def test_it_costs_the_same_queries_however_many_samples(
    client, admin_user, django_assert_num_queries
):
    director_in_germany()
    one = finished(started(change=lower_grade_b))
    client.force_login(admin_user)
    client.get(f"/scoring/rescorings/{one.pk}/")
    with django_assert_num_queries(5):
        client.get(f"/scoring/rescorings/{one.pk}/")

    for _ in range(9):
        director_in_germany()
    ten = finished(started(change=lower_grade_b))
    assert len(ten.result["samples"]) == 10
    with django_assert_num_queries(5):
        client.get(f"/scoring/rescorings/{ten.pk}/")

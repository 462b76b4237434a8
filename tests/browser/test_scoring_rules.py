"""An admin changes a scoring rule, sees the preview, saves, and watches the rescoring finish, with
the real Celery worker doing the work and the page polling its progress."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead
from scoring import services
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_it_previews_saves_and_shows_the_rescoring_finish(
    page: Page, live_server, celery_worker_process, admin_user
):
    # director 20 + "Director" in the title 15 + DE 10 = 45 fit points: C under the starter
    # rules, B once grade B starts at 45. Two such leads, and one that stays D.
    for email in ("ada@example.com", "bob@example.com"):
        lead = LeadFactory(
            email=email,
            seniority="director",
            job_title="Director Sales",
            country="DE",
            company=None,
        )
        services.lead_rescore_fit(lead_id=lead.pk)
    other = LeadFactory(
        email="cy@example.com", seniority="", job_title="Buyer", country="US", company=None
    )
    services.lead_rescore_fit(lead_id=other.pk)
    assert sorted(Lead.objects.values_list("grade", flat=True)) == ["C", "C", "D"]

    log_in(page, live_server.url, "admin")
    page.get_by_role("link", name="Scoring", exact=True).click()
    expect(page.get_by_role("heading", name="Scoring rules")).to_be_visible()
    page.get_by_label("Grade B from").fill("45")
    # An empty row comes in place (htmx), keeping what was typed elsewhere.
    rows = page.get_by_test_id("grade-rule-row")
    expect(rows).to_have_count(10)
    page.get_by_role("button", name="+ Add grade rule").click()
    expect(rows).to_have_count(11)
    expect(page.get_by_label("Grade B from")).to_have_value("45")
    page.get_by_role("button", name="Preview changes").click()

    expect(page).to_have_url(re.compile(r"/scoring/rescorings/\d+/$"))
    status = page.locator("#rescoring-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.get_by_role("heading", name="If saved, of 3 leads …")).to_be_visible()
    expect(page.get_by_test_id("grade_changed")).to_have_text("2")
    expect(page.get_by_test_id("rank_changed")).to_have_text("2")
    expect(page.get_by_test_id("grade-move")).to_have_text("C→B 2")
    expect(page.get_by_test_id("sample")).to_have_count(2)
    assert sorted(Lead.objects.values_list("grade", flat=True)) == ["C", "C", "D"]

    page.get_by_role("button", name="Save these rules and rescore all leads").click()

    expect(
        page.get_by_role("heading", name="Saving the rules and rescoring all leads")
    ).to_be_visible()
    expect(status).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.get_by_role("heading", name="Done: of 3 leads …")).to_be_visible()
    expect(page.get_by_test_id("grade_changed")).to_have_text("2")
    page.screenshot(path="/tmp/leadcrm-scoring-rescored.png", full_page=True)
    assert sorted(Lead.objects.values_list("grade", flat=True)) == ["B", "B", "D"]

    page.get_by_role("link", name="See the versions").click()
    expect(page.get_by_test_id("version").first).to_contain_text("Grade B from: 50 → 45")

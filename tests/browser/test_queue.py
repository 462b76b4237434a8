"""A sales rep starts in their queue and works it with the keyboard."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from leads.lifecycle import Stage
from leads.models import Activity
from sales.models import Assignment, RepProfile, Team
from tests.browser.test_login_and_lead import log_in
from tests.factories import ActivityFactory, CompanyFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_works_the_queue_with_the_keyboard(page: Page, live_server, sales_rep):
    best = LeadFactory(
        first_name="Ada", last_name="Best", stage=Stage.SQL, owner=sales_rep, rank="A1"
    )
    second = LeadFactory(
        first_name="Bo", last_name="Second", stage=Stage.MQL, owner=sales_rep, rank="B2"
    )

    log_in(page, live_server.url, "rep", landing=None)
    expect(page).to_have_url(re.compile(r"/sales/queue/$"))
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    rows = page.locator("[data-queue-row]")
    expect(rows).to_have_count(2)

    page.keyboard.press("j")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator("[data-bulk-count]")).to_have_text("1 selected:")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/leads/{best.pk}/$"))

    page.go_back()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(rf"/leads/{second.pk}/#activities$"))
    expect(page.locator("#activities")).to_be_visible()


def test_a_lead_assigned_meanwhile_appears_without_a_reload(
    page: Page, live_server, sales_rep, settings
):
    settings.LEADCRM_QUEUE_REFRESH_SECONDS = 1
    LeadFactory(first_name="Ada", last_name="First", stage=Stage.SQL, owner=sales_rep)
    log_in(page, live_server.url, "rep", landing=None)
    rows = page.locator("[data-queue-row]")
    expect(rows).to_have_count(1)

    LeadFactory(first_name="Newly", last_name="Assigned", stage=Stage.MQL, owner=sales_rep)

    expect(rows).to_have_count(2)
    expect(page.locator("#queue-results")).to_contain_text("Newly Assigned")


def test_the_team_queue_fits_1400_pixels_in_german_with_every_column(
    browser: Browser, live_server, sales_manager, sales_rep
):
    team = Team.objects.create(name="DACH")
    team.managers.add(sales_manager)
    RepProfile.objects.create(user=sales_rep, team=team)
    now = timezone.now()
    company = CompanyFactory(name="Präzisionsmaschinenbau Süddeutschland GmbH & Co. KG")
    for number in range(3):
        lead = LeadFactory(
            first_name="Maximiliane",
            last_name=f"Hohenzollern-Sigmaringen {number}",
            company=company,
            stage=Stage.MQL,
            stage_changed_at=now - timedelta(hours=1),
            owner=sales_rep,
            rank="A1",
        )
        Assignment.objects.create(
            lead=lead, owner=sales_rep, at=now, sla_due_at=now + timedelta(hours=21, minutes=59)
        )
        ActivityFactory(
            lead=lead,
            kind=Activity.Kind.TASK,
            subject="Angebot für die Vertragsverlängerung vorbereiten",
            due_at=now + timedelta(days=2),
        )
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "manager", landing="/sales/queue/")
    page.get_by_role("button", name="Deutsch").click()

    expect(page.get_by_role("heading", name="Team-Warteschlange")).to_be_visible()
    table = page.locator(".queue-table")
    expect(table.locator("thead th").last).to_have_text("Nächste Aufgabe")
    assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    box = table.locator("thead th").last.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 1400
    expect(table.locator(".sla-ok").first).to_have_text("noch 21 Stunden")
    context.close()

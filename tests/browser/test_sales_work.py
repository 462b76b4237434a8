import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads.lifecycle import Stage
from leads.models import Activity, Lead
from tests.browser.test_login_and_lead import log_in
from tests.factories import LeadFactory

# The live server runs in another thread and sees only committed rows.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_qualifies_an_mql_logs_a_call_and_ticks_off_a_task(
    page: Page, live_server, sales_rep
):
    lead = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")
    log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    card = page.locator("#qualification")
    card.get_by_role("button", name="Accept as SQL").click()
    expect(card.get_by_role("alert")).to_contain_text(
        "“Budget” is not confirmed. Accepting needs 3 of 4 BANT criteria confirmed; 0 are."
    )
    expect(page.get_by_test_id("current-stage")).to_have_text("Marketing-qualified (MQL)")

    card.get_by_label("Budget", exact=True).fill("€40k approved for Q3")
    card.get_by_label("Confirmed: Budget").check()
    card.get_by_label("Authority", exact=True).fill("Head of sales signs")
    card.get_by_label("Confirmed: Authority").check()
    card.get_by_label("Need", exact=True).fill("Leads get lost in spreadsheets")
    card.get_by_label("Confirmed: Need").check()
    card.get_by_role("button", name="Accept as SQL").click()

    expect(page.locator(".messages")).to_contain_text(
        "“Alan Turing” is accepted as sales-qualified (SQL)."
    )
    expect(page.get_by_test_id("current-stage")).to_have_text("Sales-qualified (SQL)")
    expect(page.get_by_test_id("bant-count")).to_have_text("BANT 3/4")

    activities = page.locator("#activities")
    activities.get_by_text("Call", exact=True).click()
    activities.get_by_label("What happened").fill("Walked through the pricing with the CFO")
    activities.get_by_role("button", name="Log activity").click()
    expect(activities).to_contain_text("Logged: it is on the timeline below.")
    # The timeline reloads itself, without a page load.
    expect(page.locator("#timeline")).to_contain_text("Walked through the pricing with the CFO")

    due = timezone.localtime() + dt.timedelta(days=2)
    activities.get_by_label("Task", exact=True).fill("Send the proposal")
    activities.get_by_label("Due").fill(due.strftime("%Y-%m-%dT10:00"))
    activities.get_by_role("button", name="Add task").click()
    expect(activities.locator(".task-item")).to_contain_text("Send the proposal")

    page.get_by_role("link", name="My tasks").first.click()
    expect(page).to_have_url(re.compile(r"/sales/tasks/$"))
    row = page.locator("[data-task-row]").filter(has_text="Send the proposal")
    expect(row).to_contain_text("Alan Turing")
    page.keyboard.press("j")
    expect(row).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator("[data-task-row]").filter(has_text="Send the proposal")).to_have_class(
        re.compile(r"\bis-done\b")
    )

    lead.refresh_from_db()
    assert lead.stage == "sql"
    assert lead.owner == sales_rep
    task = Activity.objects.get(lead=lead, kind="task")
    assert task.done_at is not None
    assert Activity.objects.get(lead=lead, kind="call").author == sales_rep
    assert Lead.objects.get(pk=lead.pk).qualification.bant_confirmed == 3

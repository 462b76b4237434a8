"""The lead list's rows as a user reads them: every column's cell, dashes for what is missing,
escaped text, the "Claim" button, in English and German (leads/templatetags/lead_rows.py)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from leads.lifecycle import Stage
from leads.listing import COLUMNS
from leads.models import LeadListSettings
from tests.factories import CampaignFactory, CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:list")


@pytest.fixture
def every_column(marketer):
    LeadListSettings.objects.create(user=marketer, columns=list(COLUMNS))


@pytest.fixture
def ada():
    owner = UserFactory(username="rita", first_name="Rita", last_name="Okafor")
    return LeadFactory(
        first_name="Ada",
        last_name="<Lovelace>",
        email="ada@example.com",
        job_title="CTO",
        country="DE",
        city="Köln",
        phone="+49 221 1",
        company=CompanyFactory(name="Acme & Sons"),
        owner=owner,
        stage=Stage.SQL,
        rank="A1",
        temperature="hot",
        behaviour_score=72.6,
        source_channel="webinar",
        first_campaign=CampaignFactory(name="Spring webinar"),
        # 1 March 23:30 in Berlin, and 2 March 00:15 there.
        created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC),
        stage_changed_at=datetime(2026, 3, 1, 23, 15, tzinfo=UTC),
    )


def test_a_row_shows_every_column_in_english(client, marketer, every_column, ada):
    client.force_login(marketer)

    page = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assertInHTML(
        f"""<tr>
        <td class="col-select"><input type="checkbox" name="lead" value="{ada.pk}"
          form="bulk-form" data-select-row aria-labelledby="lead-{ada.pk}"></td>
        <td class="cell-clip col-name" data-label="Name"><a class="lead-link" id="lead-{ada.pk}"
          href="/leads/{ada.pk}/" title="ada@example.com">Ada &lt;Lovelace&gt;</a></td>
        <td class="nowrap" data-label="Rank"><span class="score-signal"><span
          class="badge rank rank-A"><span class="visually-hidden">Rank </span>A1</span>
          <span class="traffic traffic-hot" data-testid="traffic-light"><span class="traffic-dot"
          aria-hidden="true"></span>Hot</span></span></td>
        <td class="num" data-label="Score">73</td>
        <td class="cell-clip cell-company" data-label="Company" title="Acme &amp; Sons">Acme &amp;
          Sons</td>
        <td class="nowrap" data-label="Stage"><span class="badge stage stage-sql"
          title="Sales-qualified (SQL)">SQL</span></td>
        <td class="cell-owner nowrap" data-label="Owner">Rita Okafor</td>
        <td class="cell-clip cell-narrow" data-label="Channel">Webinar</td>
        <td class="nowrap" data-label="Created">03/01/2026</td>
        <td class="cell-clip" data-label="E-mail">ada@example.com</td>
        <td class="cell-clip" data-label="Job title">CTO</td>
        <td class="nowrap" data-label="Country">Germany</td>
        <td class="cell-clip cell-narrow" data-label="City">Köln</td>
        <td class="nowrap" data-label="Phone">+49 221 1</td>
        <td class="cell-clip" data-label="Campaign">Spring webinar</td>
        <td class="nowrap" data-label="Stage changed">03/02/2026</td>
        </tr>""",
        page,
    )


def test_a_row_speaks_german(client, marketer, every_column, ada):
    client.force_login(marketer)

    page = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    for cell in [
        '<td class="cell-owner nowrap" data-label="Verantwortlich">Rita Okafor</td>',
        '<td class="nowrap" data-label="Erstellt">01.03.2026</td>',
        '<td class="nowrap" data-label="Land">Deutschland</td>',
        '<td class="nowrap" data-label="Rang"><span class="score-signal"><span class="badge rank '
        'rank-A"><span class="visually-hidden">Rang </span>A1</span> <span class="traffic '
        'traffic-hot" data-testid="traffic-light"><span class="traffic-dot" aria-hidden="true">'
        "</span>Heiß</span></span></td>",
    ]:
        assertInHTML(cell, page)


def test_what_a_lead_lacks_shows_as_a_dash(client, marketer, every_column):
    lead = LeadFactory(
        first_name="",
        last_name="",
        email="nobody@example.com",
        company=None,
        owner=None,
        job_title="",
        country="",
        city="",
        phone="",
        first_campaign=None,
    )
    client.force_login(marketer)

    page = client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assertInHTML(
        f'<a class="lead-link" id="lead-{lead.pk}" href="/leads/{lead.pk}/" '
        'title="nobody@example.com">nobody@example.com</a>',
        page,
    )
    assertInHTML('<td class="cell-clip cell-company" data-label="Company" title="">–</td>', page)
    assertInHTML(
        '<td class="cell-owner nowrap" data-label="Owner"><span class="muted">Unassigned</span>'
        "</td>",
        page,
    )
    for key, label in [
        ("cell-clip", "Job title"),
        ("nowrap", "Country"),
        ("cell-clip cell-narrow", "City"),
        ("nowrap", "Phone"),
        ("cell-clip", "Campaign"),
    ]:
        assertInHTML(f'<td class="{key}" data-label="{label}">–</td>', page)


def test_the_email_shows_under_the_name_on_phones_only_while_its_column_is_hidden(client, marketer):
    LeadFactory(first_name="Ada", last_name="King", email="ada@example.com")
    client.force_login(marketer)

    default = client.get(LIST_URL).content.decode()
    LeadListSettings.objects.create(user=marketer, columns=["name", "email"])
    with_email = client.get(LIST_URL).content.decode()

    phone_only = '<span class="only-phone muted small">ada@example.com</span>'
    assert phone_only in default
    assert phone_only not in with_email


def test_a_rep_claims_an_unassigned_mql_from_its_row(client, sales_rep):
    mql = LeadFactory(first_name="Ada", last_name="King", stage=Stage.MQL, owner=None)
    client.force_login(sales_rep)

    response = client.get(LIST_URL, {"stage": "mql"})
    page = response.content.decode()

    token = response.context["csrf_token"]
    assertInHTML(
        f"""<td class="cell-owner nowrap" data-label="Owner">
        <span class="visually-hidden">Unassigned</span>
        <form method="post" action="/leads/{mql.pk}/claim/" class="row-action">
          <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
          <input type="hidden" name="next" value="/leads/?stage=mql">
          <button type="submit" class="button button-small" aria-label="Claim Ada King">Claim
          </button>
        </form></td>""",
        page,
    )
    claimed = client.post(
        f"/leads/{mql.pk}/claim/", {"csrfmiddlewaretoken": token, "next": "/leads/?stage=mql"}
    )
    assert claimed.status_code == 302
    mql.refresh_from_db()
    assert mql.owner == sales_rep

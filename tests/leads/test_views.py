import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.lifecycle import Stage
from leads.models import Channel, Company, Lead, StageTransition, Temperature
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    CompanyFactory,
    ConsentFactory,
    EventFactory,
    LeadFactory,
    OpportunityFactory,
    StageTransitionFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:list")


def _names(response) -> set[str]:
    return {lead.email for lead in response.context["leads"]}


def _lead_form_data(**overrides) -> dict:
    data = {
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines Ltd",
        "job_title": "CTO",
        "seniority": "c_level",
        "phone": "",
        "country": "gb",
        "city": "London",
        "language": "en",
        "age_band": "",
        "owner": "",
        "source_channel": Channel.WEBINAR,
        "first_campaign": "",
        "last_campaign": "",
        "utm_source": "newsletter",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_term": "",
        "utm_content": "",
    }
    data.update(overrides)
    return data


# Access


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    lead = LeadFactory()
    for url in [LIST_URL, reverse("leads:detail", args=[lead.pk]), reverse("leads:create")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_it_forbids_users_without_a_role(client, no_role_user):
    lead = LeadFactory()
    client.force_login(no_role_user)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 403
    assert client.get(reverse("leads:create")).status_code == 403


def test_it_shows_the_login_page_and_signs_in(client, marketer):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content

    response = client.post(
        reverse("login"),
        {"username": "marketer", "password": "correct-horse-battery"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == LIST_URL
    assert "marketer" in response.content.decode() or marketer.get_full_name() in (
        response.content.decode()
    )


def test_it_shows_each_role_its_navigation(client, marketer, sales_rep, admin_user):
    client.force_login(marketer)
    page = client.get(LIST_URL).content.decode()
    assert "New lead" in page
    assert "My queue" not in page
    assert "API docs" in page  # every signed-in user may read the API docs
    assert reverse("admin:index") not in page

    client.force_login(sales_rep)
    page = client.get(LIST_URL).content.decode()
    assert f'href="{LIST_URL}?owner={sales_rep.pk}"' in page
    assert "My queue" in page
    assert "New lead" not in page

    client.force_login(admin_user)
    page = client.get(LIST_URL).content.decode()
    assert reverse("api-docs") in page
    assert reverse("admin:index") in page


# List


def grace_hopper(**fields):
    """An SQL lead at "Navy Labs"; tests add what they look for."""
    return LeadFactory(
        email="grace@example.com",
        first_name="Grace",
        last_name="Hopper",
        company=CompanyFactory(name="Navy Labs"),
        stage=Stage.SQL,
        **fields,
    )


def test_it_lists_leads_with_their_columns(client, marketer, sales_rep):
    grace_hopper(rank="A1", temperature=Temperature.HOT, owner=sales_rep)
    client.force_login(marketer)

    page = client.get(LIST_URL).content.decode()

    assert "Grace Hopper" in page
    assert "grace@example.com" in page
    assert "Navy Labs" in page
    assert "Sales-qualified (SQL)" in page
    assert "A1" in page
    assert "Hot" in page


def test_it_shows_a_sales_rep_only_own_leads_and_unassigned_mqls(client, sales_rep, other_rep):
    LeadFactory(email="mine@example.com", owner=sales_rep, stage=Stage.SQL)
    LeadFactory(email="pool@example.com", owner=None, stage=Stage.MQL)
    LeadFactory(email="theirs@example.com", owner=other_rep, stage=Stage.SQL)
    LeadFactory(email="raw@example.com", owner=None, stage=Stage.UNQUALIFIED)
    client.force_login(sales_rep)

    response = client.get(LIST_URL)

    assert _names(response) == {"mine@example.com", "pool@example.com"}
    assert "theirs@example.com" not in response.content.decode()


def test_it_filters_my_queue_by_owner(client, sales_rep):
    LeadFactory(email="mine@example.com", owner=sales_rep, stage=Stage.SQL)
    LeadFactory(email="pool@example.com", owner=None, stage=Stage.MQL)
    client.force_login(sales_rep)

    response = client.get(LIST_URL, {"owner": sales_rep.pk})

    assert _names(response) == {"mine@example.com"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "hop"}, {"grace@example.com"}),
        ({"q": "alan@"}, {"alan@example.com"}),
        ({"q": "Navy"}, {"grace@example.com"}),
        ({"stage": ["sql", "customer"]}, {"grace@example.com", "ada@example.com"}),
        ({"unassigned": "true"}, {"alan@example.com", "ada@example.com"}),
        ({"grade": ["A"]}, {"grace@example.com"}),
        ({"temperature": "warm"}, {"alan@example.com"}),
        ({"source_channel": "seo"}, {"ada@example.com"}),
        ({"created_after": "2026-03-01"}, {"grace@example.com", "ada@example.com"}),
        ({"created_before": "2026-02-28"}, {"alan@example.com"}),
    ],
)
def test_it_filters_and_searches_the_list(client, marketer, sales_rep, params, expected):
    march = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    grace_hopper(grade="A", owner=sales_rep, created_at=march)
    LeadFactory(
        email="alan@example.com",
        first_name="Alan",
        last_name="Turing",
        stage=Stage.MQL,
        grade="B",
        temperature=Temperature.WARM,
        created_at=dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC),
    )
    LeadFactory(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        stage=Stage.CUSTOMER,
        source_channel=Channel.SEO,
        created_at=march + dt.timedelta(days=5),
    )
    client.force_login(marketer)

    response = client.get(LIST_URL, params)

    assert response.status_code == 200
    assert _names(response) == expected


def test_it_filters_by_first_campaign(client, marketer):
    webinar = CampaignFactory(name="Spring webinar")
    LeadFactory(email="in@example.com", first_campaign=webinar)
    LeadFactory(email="out@example.com")
    client.force_login(marketer)

    response = client.get(LIST_URL, {"campaign": webinar.pk})

    assert _names(response) == {"in@example.com"}
    assert "Spring webinar" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["c@example.com", "b@example.com", "a@example.com"]),
        ("oldest", ["a@example.com", "b@example.com", "c@example.com"]),
        ("name", ["b@example.com", "c@example.com", "a@example.com"]),
        ("score", ["c@example.com", "a@example.com", "b@example.com"]),
        ("stage_changed", ["b@example.com", "a@example.com", "c@example.com"]),
        ("id; DROP TABLE leads_lead", ["c@example.com", "b@example.com", "a@example.com"]),
    ],
)
def test_it_sorts_by_allowed_keys_only(client, marketer, sort, expected):
    now = timezone.now()
    rows = [
        ("a@example.com", "Zuse", 50.0, now - dt.timedelta(days=3), now - dt.timedelta(days=2)),
        ("b@example.com", "Babbage", 10.0, now - dt.timedelta(days=2), now - dt.timedelta(days=1)),
        ("c@example.com", "Hopper", 90.0, now - dt.timedelta(days=1), now - dt.timedelta(days=5)),
    ]
    for email, last_name, score, created, changed in rows:
        LeadFactory(
            email=email,
            last_name=last_name,
            behaviour_score=score,
            created_at=created,
            stage_changed_at=changed,
        )
    client.force_login(marketer)

    response = client.get(LIST_URL, {"sort": sort})

    assert [lead.email for lead in response.context["leads"]] == expected


def test_it_paginates_by_fifty_and_keeps_the_filters(client, marketer):
    LeadFactory.create_batch(55, stage=Stage.MQL)
    LeadFactory.create_batch(3, stage=Stage.SQL)
    client.force_login(marketer)

    first = client.get(LIST_URL, {"stage": "mql", "sort": "oldest"})
    second = client.get(LIST_URL, {"stage": "mql", "sort": "oldest", "page": 2})

    assert len(first.context["leads"]) == 50
    assert "55 leads" in first.content.decode()
    assert "stage=mql&amp;sort=oldest&amp;page=2" in first.content.decode()
    assert len(second.context["leads"]) == 5
    assert "Page 2 of 2" in second.content.decode()


def test_it_answers_htmx_with_the_results_table_only(client, marketer):
    LeadFactory(email="grace@example.com", last_name="Hopper")
    client.force_login(marketer)

    response = client.get(LIST_URL, {"q": "hop"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert 'id="lead-results"' in body
    assert "grace@example.com" in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_it_runs_the_same_number_of_queries_for_3_or_30_leads(
    client, marketer, django_assert_num_queries
):
    LeadFactory.create_batch(3, owner=marketer, first_campaign=CampaignFactory())
    client.force_login(marketer)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(LIST_URL).context["leads"]) == 3

    LeadFactory.create_batch(27, owner=marketer, first_campaign=CampaignFactory())
    with django_assert_num_queries(len(few)):
        assert len(client.get(LIST_URL).context["leads"]) == 30


# Detail


def test_it_shows_the_lead_profile_scoring_source_and_timeline(client, marketer, sales_rep):
    webinar = CampaignFactory(name="Spring webinar")
    lead = LeadFactory(
        first_name="Grace",
        last_name="Hopper",
        company=CompanyFactory(name="Navy Labs", industry="Defence"),
        stage=Stage.MQL,
        grade="B",
        behaviour_score=42.5,
        rank="B2",
        temperature=Temperature.WARM,
        first_campaign=webinar,
        utm_source="linkedin",
    )
    StageTransitionFactory(
        lead=lead, from_stage=Stage.UNQUALIFIED, to_stage=Stage.MQL, by_rule="mql-threshold"
    )
    StageTransitionFactory(
        lead=lead,
        from_stage=Stage.MQL,
        to_stage=Stage.SQL,
        by_rule="",
        by_user=sales_rep,
        reason="Budget confirmed",
    )
    EventFactory(lead=lead, kind="download", asset="Buyer's guide", campaign=webinar)
    ActivityFactory(lead=lead, subject="Discovery call", author=sales_rep)
    ConsentFactory(lead=lead)
    OpportunityFactory(lead=lead, name="Fleet licence")
    client.force_login(marketer)

    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()

    for text in [
        "Grace Hopper",
        "Navy Labs",
        "Defence",
        "42.5",
        "B2",
        "Warm",
        "Spring webinar",
        "source=linkedin",
        "Marketing e-mail",
        "Granted",
        "Fleet licence",
        "by rule “mql-threshold”",
        "Budget confirmed",
        "Download: Buyer&#x27;s guide",
        "Discovery call",
    ]:
        assert text in page, text
    assert f"by {sales_rep.get_full_name()}" in page


def test_it_hides_other_reps_leads_from_a_sales_rep(client, sales_rep, other_rep):
    theirs = LeadFactory(owner=other_rep, stage=Stage.SQL)
    pool = LeadFactory(owner=None, stage=Stage.MQL)
    client.force_login(sales_rep)

    assert client.get(reverse("leads:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("leads:detail", args=[pool.pk])).status_code == 200


def test_it_runs_the_same_number_of_queries_for_a_short_or_long_history(
    client, marketer, django_assert_num_queries
):
    def lead_with_history(size: int) -> Lead:
        lead = LeadFactory(owner=marketer, first_campaign=CampaignFactory())
        StageTransitionFactory.create_batch(size, lead=lead, by_user=marketer)
        EventFactory.create_batch(size, lead=lead, campaign=CampaignFactory())
        ActivityFactory.create_batch(size, lead=lead, author=marketer)
        ConsentFactory.create_batch(size, lead=lead)
        OpportunityFactory.create_batch(size, lead=lead, owner=marketer)
        return lead

    short, long = lead_with_history(1), lead_with_history(10)
    client.force_login(marketer)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(reverse("leads:detail", args=[short.pk])).context["timeline"]) == 3

    with django_assert_num_queries(len(few)):
        assert len(client.get(reverse("leads:detail", args=[long.pk])).context["timeline"]) == 30


# Stage changes


def test_it_changes_the_stage_through_the_form(client, sales_rep):
    lead = LeadFactory(owner=sales_rep, stage=Stage.MQL)
    client.force_login(sales_rep)

    response = client.post(
        reverse("leads:transition", args=[lead.pk]),
        {"to_stage": Stage.SQL, "reason": "Budget confirmed"},
        follow=True,
    )

    lead.refresh_from_db()
    assert lead.stage == Stage.SQL
    page = response.content.decode()
    assert "Moved to stage “Sales-qualified (SQL)”." in page
    assert "Budget confirmed" in page
    transition = StageTransition.objects.get(lead=lead)
    assert (transition.from_stage, transition.to_stage, transition.by_user) == (
        Stage.MQL,
        Stage.SQL,
        sales_rep,
    )


def test_it_offers_only_the_allowed_next_stages(client, marketer):
    lead = LeadFactory(stage=Stage.MQL)
    client.force_login(marketer)

    response = client.get(reverse("leads:detail", args=[lead.pk]))

    options = [
        value
        for value, _label in response.context["transition_form"]["to_stage"].field.widget.choices
    ]
    assert options == [Stage.SQL, Stage.NURTURE, Stage.DISQUALIFIED]


def test_it_explains_a_forbidden_move_with_the_allowed_stages(client, marketer):
    lead = LeadFactory(stage=Stage.MQL)
    client.force_login(marketer)

    response = client.post(
        reverse("leads:transition", args=[lead.pk]), {"to_stage": Stage.CUSTOMER}, follow=True
    )

    page = response.content.decode()
    assert "cannot move to “Customer”" in page
    assert "Allowed next stages: Sales-qualified (SQL), Nurture, Disqualified." in page
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_it_asks_for_a_reason_when_a_lead_leaves_the_funnel(client, marketer):
    lead = LeadFactory(stage=Stage.MQL)
    client.force_login(marketer)

    response = client.post(
        reverse("leads:transition", args=[lead.pk]), {"to_stage": Stage.DISQUALIFIED}
    )

    assert response.status_code == 200
    assert "Say why the lead leaves the funnel." in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_it_refuses_stage_changes_without_the_permission(client, no_role_user):
    lead = LeadFactory(stage=Stage.MQL)
    client.force_login(no_role_user)

    response = client.post(reverse("leads:transition", args=[lead.pk]), {"to_stage": Stage.SQL})

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


# Create and edit


def test_it_creates_a_lead_with_its_company_and_first_stage(client, marketer, sales_rep):
    client.force_login(marketer)

    response = client.post(
        reverse("leads:create"), _lead_form_data(owner=sales_rep.pk), follow=True
    )

    lead = Lead.objects.get(email="ada@example.com")
    assert response.redirect_chain[-1][0] == reverse("leads:detail", args=[lead.pk])
    assert "Lead “Ada Lovelace” created." in response.content.decode()
    assert lead.company.name == "Analytical Engines Ltd"
    assert lead.country == "GB"
    assert lead.owner == sales_rep
    transition = StageTransition.objects.get(lead=lead)
    assert (transition.to_stage, transition.by_user) == (Stage.UNQUALIFIED, marketer)


def test_it_shows_the_duplicate_email_error_and_writes_nothing(client, marketer):
    LeadFactory(email="ada@example.com")
    client.force_login(marketer)

    response = client.post(
        reverse("leads:create"),
        _lead_form_data(email="ADA@example.com", company_name="Brand New Co"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "A lead with this e-mail address already exists."
    ]
    assert "A lead with this e-mail address already exists." in response.content.decode()
    assert Lead.objects.count() == 1
    assert not StageTransition.objects.exists()
    assert not Lead.objects.filter(company__name="Brand New Co").exists()


def test_it_refuses_a_sales_rep_creating_leads(client, sales_rep):
    client.force_login(sales_rep)

    response = client.post(reverse("leads:create"), _lead_form_data())

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_it_edits_a_lead(client, marketer):
    lead = LeadFactory(email="old@example.com", first_name="Ada", last_name="Byron")
    client.force_login(marketer)
    form_page = client.get(reverse("leads:edit", args=[lead.pk]))
    assert 'value="old@example.com"' in form_page.content.decode()

    response = client.post(
        reverse("leads:edit", args=[lead.pk]),
        _lead_form_data(email="ada@example.com", last_name="Lovelace"),
        follow=True,
    )

    lead.refresh_from_db()
    assert (lead.email, lead.last_name) == ("ada@example.com", "Lovelace")
    assert lead.company.name == "Analytical Engines Ltd"
    assert "Lead “Ada Lovelace” saved." in response.content.decode()


def test_it_lets_a_sales_rep_assign_a_lead_only_to_themselves(client, sales_rep, other_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL, email="pool@example.com")
    client.force_login(sales_rep)
    data = _lead_form_data(email="pool@example.com")

    refused = client.post(reverse("leads:edit", args=[lead.pk]), {**data, "owner": other_rep.pk})
    assert "You may only assign leads to yourself." in refused.content.decode()
    lead.refresh_from_db()
    assert lead.owner is None

    client.post(reverse("leads:edit", args=[lead.pk]), {**data, "owner": sales_rep.pk})
    lead.refresh_from_db()
    assert lead.owner == sales_rep


# HTMX helpers


def test_it_suggests_companies_by_name(client, marketer):
    CompanyFactory(name="Navy Labs")
    CompanyFactory(name="Navigator AG")
    CompanyFactory(name="Other Inc")
    client.force_login(marketer)

    response = client.get(reverse("leads:company-lookup"), {"company_name": "nav"})

    body = response.content.decode()
    assert '<option value="Navy Labs">' in body
    assert '<option value="Navigator AG">' in body
    assert "Other Inc" not in body


def test_it_warns_about_an_existing_email_with_a_link(client, marketer):
    lead = LeadFactory(email="grace@example.com", first_name="Grace", last_name="Hopper")
    client.force_login(marketer)

    response = client.get(reverse("leads:check-email"), {"email": "GRACE@example.com"})

    body = response.content.decode()
    assert "A lead with this e-mail address already exists" in body
    assert f'href="{reverse("leads:detail", args=[lead.pk])}"' in body
    assert "Grace Hopper" in body


def test_it_does_not_reveal_a_lead_the_user_may_not_see(client, sales_rep, other_rep):
    theirs = LeadFactory(
        email="theirs@example.com", owner=other_rep, stage=Stage.SQL, last_name="Secret"
    )
    client.force_login(sales_rep)
    url = reverse("leads:check-email")

    plain = client.get(url, {"email": "theirs@example.com"}).content
    probing_the_id = client.get(url, {"email": "theirs@example.com", "exclude": theirs.pk}).content

    assert plain.strip() == b""
    assert probing_the_id.strip() == b""


def test_it_says_nothing_for_a_free_email_or_the_lead_itself(client, marketer):
    lead = LeadFactory(email="grace@example.com")
    client.force_login(marketer)
    url = reverse("leads:check-email")

    assert client.get(url, {"email": "new@example.com"}).content.strip() == b""
    assert client.get(url, {"email": "grace@example.com", "exclude": lead.pk}).content.strip() == (
        b""
    )


def test_it_rejects_a_bad_country_code(client, marketer):
    client.force_login(marketer)

    response = client.post(reverse("leads:create"), _lead_form_data(country="Germany"))

    assert "Enter a two-letter country code." in response.content.decode()
    assert not Lead.objects.exists()
    assert not Company.objects.exists()

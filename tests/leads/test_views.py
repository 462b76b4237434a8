import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from leads import services
from leads.forms import LeadForm
from leads.lifecycle import Stage
from leads.models import (
    AuditEntry,
    Channel,
    Company,
    Consent,
    Industry,
    Lead,
    LeadChange,
    StageTransition,
    Temperature,
)
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    CompanyFactory,
    ConsentFactory,
    EventFactory,
    LeadFactory,
    OpportunityFactory,
    StageTransitionFactory,
    UserFactory,
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
        "country": "GB",
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
    assert f'href="{reverse("sales:queue")}"' in page
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


def test_it_pages_by_fifty_and_keeps_the_filters(client, marketer):
    LeadFactory.create_batch(55, stage=Stage.MQL)
    LeadFactory.create_batch(3, stage=Stage.SQL)
    client.force_login(marketer)

    first = client.get(LIST_URL, {"stage": "mql", "sort": "oldest"})
    cursor = first.context["page"].next_cursor
    second = client.get(LIST_URL, {"stage": "mql", "sort": "oldest", "cursor": cursor})

    assert len(first.context["leads"]) == 50
    assert "55 leads" in first.content.decode()
    assert f"stage=mql&amp;sort=oldest&amp;cursor={cursor}" in first.content.decode()
    assert len(second.context["leads"]) == 5
    assert "Leads 51–55" in second.content.decode()
    shown = [lead.pk for lead in first.context["leads"] + second.context["leads"]]
    assert shown == sorted(Lead.objects.filter(stage=Stage.MQL).values_list("pk", flat=True))


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
    # Session and user, roles and permissions, the saved views and chosen columns, the owner
    # and campaign choices (filter, bulk assign), the capped count and the page.
    with django_assert_num_queries(10):
        assert len(client.get(LIST_URL).context["leads"]) == 3

    LeadFactory.create_batch(27, owner=marketer, first_campaign=CampaignFactory())
    with django_assert_num_queries(10):
        assert len(client.get(LIST_URL).context["leads"]) == 30


# Detail


def test_it_shows_the_lead_profile_scoring_source_and_timeline(client, marketer, sales_rep):
    webinar = CampaignFactory(name="Spring webinar")
    lead = LeadFactory(
        first_name="Grace",
        last_name="Hopper",
        company=CompanyFactory(name="Navy Labs", industry=Industry.PUBLIC_SECTOR),
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
        "Public sector",
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
    # 12 for the page and its timeline, 4 for the score card (tests/scoring/test_score_card.py),
    # 4 for the sales cards (assignments, qualification, open tasks, who a task can go to)
    with django_assert_num_queries(18):
        assert len(client.get(reverse("leads:detail", args=[short.pk])).context["timeline"]) == 3

    with django_assert_num_queries(18):
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


def test_it_offers_a_sales_rep_only_themselves_as_owner(client, sales_rep, other_rep):
    lead = LeadFactory(owner=None, stage=Stage.MQL, email="pool@example.com")
    client.force_login(sales_rep)
    data = _lead_form_data(email="pool@example.com")

    form_page = client.get(reverse("leads:edit", args=[lead.pk]))
    refused = client.post(reverse("leads:edit", args=[lead.pk]), {**data, "owner": other_rep.pk})
    lead.refresh_from_db()
    assert lead.owner is None
    client.post(reverse("leads:edit", args=[lead.pk]), {**data, "owner": sales_rep.pk})
    lead.refresh_from_db()

    owner_choices = [
        (str(value), label) for value, label in form_page.context["form"]["owner"].field.choices
    ]
    assert owner_choices == [("", "Unassigned"), (str(sales_rep.pk), sales_rep.get_full_name())]
    assert refused.context["form"].errors["owner"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert lead.owner == sales_rep


def test_it_offers_managers_every_rep_and_manager_by_full_name(
    client, sales_manager, sales_rep, marketer
):
    sales_rep.first_name, sales_rep.last_name = "Rita", "Rep"
    sales_rep.save()
    sales_manager.first_name, sales_manager.last_name = "Max", "Manager"
    sales_manager.save()
    client.force_login(sales_manager)

    form = client.get(reverse("leads:create")).context["form"]
    filter_form = client.get(LIST_URL).context["filter_form"]

    expected = [("", "Unassigned"), (sales_manager.pk, "Max Manager"), (sales_rep.pk, "Rita Rep")]
    assert [
        (value and value.value, str(label)) for value, label in form["owner"].field.choices
    ] == (expected)
    assert [
        (value and value.value, str(label)) for value, label in filter_form["owner"].field.choices
    ] == [("", "All"), *expected[1:]]


def test_it_offers_a_sales_rep_only_themselves_in_the_owner_filter(client, sales_rep, other_rep):
    client.force_login(sales_rep)

    response = client.get(LIST_URL)
    other = client.get(LIST_URL, {"owner": other_rep.pk})

    choices = response.context["filter_form"]["owner"].field.choices
    assert [(value and value.value, str(label)) for value, label in choices] == [
        ("", "All"),
        (sales_rep.pk, sales_rep.get_full_name()),
    ]
    assert other.status_code == 400


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


def test_it_accepts_only_iso_country_codes_and_supported_languages(client, marketer):
    client.force_login(marketer)

    response = client.post(
        reverse("leads:create"), _lead_form_data(country="Germany", language="fr")
    )

    errors = response.context["form"].errors
    assert errors["country"] == [
        "Select a valid choice. Germany is not one of the available choices."
    ]
    assert errors["language"] == ["Select a valid choice. fr is not one of the available choices."]
    assert not Lead.objects.exists()
    assert not Company.objects.exists()


def test_it_offers_countries_and_languages_by_name_in_the_readers_language(client, marketer):
    client.force_login(marketer)
    english = client.get(reverse("leads:create")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    german = client.get(reverse("leads:create")).content.decode()
    translation.activate(settings.LANGUAGE_CODE)

    assert '<option value="DE">Germany</option>' in english
    assert '<option value="GB">United Kingdom</option>' in english
    assert '<option value="de">German</option>' in english
    assert '<option value="DE">Deutschland</option>' in german
    assert '<option value="GB">Vereinigtes Königreich</option>' in german
    assert '<option value="de">Deutsch</option>' in german
    assert '<option value="en">Englisch</option>' in german


def test_it_shows_country_language_industry_and_consent_source_by_name(client, marketer):
    lead = grace_hopper(
        country="DE",
        city="Berlin",
        language="de",
        owner=UserFactory(role="sales_rep"),
    )
    lead.company.industry = Industry.PUBLIC_SECTOR
    lead.company.save()
    ConsentFactory(lead=lead, source=Consent.Source.TRADE_FAIR)
    client.force_login(marketer)
    english = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    german = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    translation.activate(settings.LANGUAGE_CODE)

    for text in ["Berlin, Germany", "<dd>German</dd>", "Public sector", "Trade fair"]:
        assert text in english, text
    for text in ["Berlin, Deutschland", "<dd>Deutsch</dd>", "Öffentlicher Sektor", "Messe"]:
        assert text in german, text


# Bad filters and error summaries


def test_it_reports_bad_filters_as_the_api_does_instead_of_ignoring_them(client, marketer):
    grace_hopper()
    client.force_login(marketer)

    page = client.get(LIST_URL, {"stage": "bogus", "created_after": "yesterday"})
    api = client.get(reverse("api-lead-list"), {"stage": "bogus", "created_after": "yesterday"})

    assert page.status_code == 400
    assert api.status_code == 400
    assert api.json() == {
        "stage": ["Select a valid choice. bogus is not one of the available choices."],
        "created_after": ["Enter a valid date."],
    }
    body = page.content.decode()
    assert "These filters are not valid, so no leads are shown:" in body
    assert "Stage: Select a valid choice. bogus is not one of the available choices." in body
    assert "Created from: Enter a valid date." in body
    assert "grace@example.com" not in body
    assert list(page.context["leads"]) == []


def test_it_answers_a_bad_filter_from_htmx_with_the_error_in_the_results(client, marketer):
    client.force_login(marketer)

    response = client.get(LIST_URL, {"owner": "999999"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="lead-results"' in body
    assert "<html" not in body
    assert "Owner: Select a valid choice. That choice is not one of the available choices." in body


def test_it_lists_with_a_fixed_number_of_queries(client, marketer, django_assert_num_queries):
    LeadFactory.create_batch(3, owner=marketer, first_campaign=CampaignFactory())
    client.force_login(marketer)

    # session, user, roles and permissions, saved views, chosen columns, count, page
    # of leads, owners (filter and bulk assign) and campaigns for the selects
    with django_assert_num_queries(10):
        response = client.get(LIST_URL)

    assert len(response.context["leads"]) == 3


def test_it_reports_a_bad_filter_with_a_fixed_number_of_queries(
    client, marketer, django_assert_num_queries
):
    client.force_login(marketer)

    # session, user, roles and permissions, saved views, chosen columns, the owner
    # the filter names, owners and campaigns for the selects; no lead query, no bulk actions
    with django_assert_num_queries(8):
        response = client.get(LIST_URL, {"owner": "999999"})

    assert response.status_code == 400


def test_it_sums_up_the_form_errors_at_the_top_with_links_to_the_fields(client, marketer):
    client.force_login(marketer)

    response = client.post(reverse("leads:create"), _lead_form_data(email="not-an-address"))

    body = response.content.decode()
    summary = body[
        body.index('class="error-summary"') : body.index(
            "</div>", body.index('class="error-summary"')
        )
    ]
    assert 'role="alert"' in summary
    assert 'tabindex="-1"' in summary
    assert "data-error-summary" in summary
    assert "Please correct the following:" in summary
    assert '<a href="#id_email">E-mail: Enter a valid email address.</a>' in summary
    assert body.index('class="error-summary"') < body.index('name="email"')


# Claiming unassigned MQLs


def test_it_offers_a_sales_rep_the_claim_button_on_an_unassigned_mql(client, sales_rep, marketer):
    pool = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")
    claim_url = reverse("leads:claim", args=[pool.pk])
    client.force_login(sales_rep)
    detail = client.get(reverse("leads:detail", args=[pool.pk])).content.decode()
    row = client.get(LIST_URL).content.decode()
    client.force_login(marketer)
    for_marketer = client.get(reverse("leads:detail", args=[pool.pk])).content.decode()

    assert f'action="{claim_url}"' in detail
    assert "This marketing-qualified lead has no owner yet." in detail
    assert f'action="{claim_url}"' in row
    assert 'aria-label="Claim Alan Turing"' in row
    assert claim_url not in for_marketer


def test_it_claims_an_unassigned_mql_and_returns_to_the_page(client, sales_rep):
    pool = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")
    client.force_login(sales_rep)

    response = client.post(
        reverse("leads:claim", args=[pool.pk]), {"next": f"{LIST_URL}?stage=mql"}, follow=True
    )

    pool.refresh_from_db()
    assert pool.owner == sales_rep
    assert response.redirect_chain == [(f"{LIST_URL}?stage=mql", 302)]
    assert "You now own “Alan Turing”." in response.content.decode()
    change = LeadChange.objects.get(lead=pool)
    assert (change.field, change.old_value, change.new_value, change.by_user) == (
        "owner",
        "",
        sales_rep.get_full_name(),
        sales_rep,
    )


def test_it_tells_the_slower_rep_that_someone_was_faster(client, sales_rep, other_rep):
    pool = LeadFactory(owner=None, stage=Stage.MQL)
    client.force_login(other_rep)
    client.post(reverse("leads:claim", args=[pool.pk]))
    client.force_login(sales_rep)

    response = client.post(
        reverse("leads:claim", args=[pool.pk]),
        {"next": reverse("leads:detail", args=[pool.pk]) + "?timeline=changes"},
        follow=True,
    )

    pool.refresh_from_db()
    assert pool.owner == other_rep
    assert response.redirect_chain == [(LIST_URL, 302)]
    assert (
        "Someone was faster: this lead has just been claimed by someone else."
        in response.content.decode()
    )


def test_it_ignores_a_foreign_next_address_after_claiming(client, sales_rep):
    pool = LeadFactory(owner=None, stage=Stage.MQL)
    client.force_login(sales_rep)

    response = client.post(
        reverse("leads:claim", args=[pool.pk]), {"next": "https://evil.example/phish"}
    )

    assert response.url == reverse("leads:detail", args=[pool.pk])


def test_it_claims_an_unassigned_mql_when_a_rep_qualifies_it(client, sales_rep):
    pool = LeadFactory(owner=None, stage=Stage.MQL, first_name="Alan", last_name="Turing")
    client.force_login(sales_rep)

    response = client.post(
        reverse("leads:transition", args=[pool.pk]),
        {"to_stage": Stage.SQL, "reason": "Budget confirmed"},
        follow=True,
    )

    pool.refresh_from_db()
    assert (pool.stage, pool.owner) == (Stage.SQL, sales_rep)
    assert (
        "Moved to stage “Sales-qualified (SQL)”. You now own “Alan Turing”."
        in response.content.decode()
    )


def test_it_explains_when_a_marketer_qualifies_a_lead_without_owner(client, marketer):
    pool = LeadFactory(owner=None, stage=Stage.MQL)
    client.force_login(marketer)

    response = client.post(reverse("leads:transition", args=[pool.pk]), {"to_stage": Stage.SQL})

    assert response.status_code == 200
    assert "Assign an owner before moving the lead to this stage." in response.content.decode()
    pool.refresh_from_db()
    assert pool.stage == Stage.MQL


# Editing a lead that changed meanwhile


def test_it_says_so_when_the_lead_was_reassigned_while_the_rep_edited_it(
    client, sales_rep, other_rep, sales_manager, monkeypatch
):
    lead = LeadFactory(owner=sales_rep, stage=Stage.SQL, email="mine@example.com")
    client.force_login(sales_rep)
    original_clean = LeadForm.clean

    def clean_while_a_manager_reassigns(form):
        # The manager's change lands between the rep's form check and the service's lock.
        Lead.objects.filter(pk=lead.pk).update(owner=other_rep)
        return original_clean(form)

    monkeypatch.setattr(LeadForm, "clean", clean_while_a_manager_reassigns)

    response = client.post(
        reverse("leads:edit", args=[lead.pk]),
        _lead_form_data(email="mine@example.com", owner=sales_rep.pk, city="Paris"),
        follow=True,
    )

    assert response.redirect_chain == [(LIST_URL, 302)]
    page = response.content.decode()
    assert "was reassigned or deleted in the meantime, so your changes were not saved." in page
    lead.refresh_from_db()
    assert (lead.owner, lead.city) == (other_rep, "")


# Deleting


def test_it_shows_the_delete_button_only_to_managers(client, sales_manager, marketer, sales_rep):
    lead = grace_hopper(owner=sales_rep)
    delete_url = reverse("leads:delete", args=[lead.pk])
    pages = {}
    for user in (sales_manager, marketer, sales_rep):
        client.force_login(user)
        pages[user.username] = client.get(reverse("leads:detail", args=[lead.pk])).content
    client.force_login(marketer)
    refused = client.get(delete_url)

    assert delete_url.encode() in pages["manager"]
    assert delete_url.encode() not in pages["marketer"]
    assert delete_url.encode() not in pages["rep"]
    assert refused.status_code == 403


def test_it_asks_before_deleting_and_names_the_lead(client, sales_manager, sales_rep):
    lead = grace_hopper(owner=sales_rep)
    client.force_login(sales_manager)

    page = client.get(reverse("leads:delete", args=[lead.pk])).content.decode()

    assert "Delete the lead “Grace Hopper”?" in page
    assert "grace@example.com" in page
    assert "Navy Labs" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'method="post"' in page
    assert 'aria-label="Main navigation"' in page
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_it_deletes_after_confirmation_and_returns_to_the_list(client, sales_manager, sales_rep):
    lead = grace_hopper(owner=sales_rep)
    client.force_login(sales_manager)

    response = client.post(reverse("leads:delete", args=[lead.pk]), follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    assert "Lead “Grace Hopper” deleted." in response.content.decode()
    assert not Lead.objects.filter(pk=lead.pk).exists()
    audit = AuditEntry.objects.get()
    assert (audit.action, audit.object_id, audit.by_user) == (
        AuditEntry.Action.LEAD_DELETED,
        lead.pk,
        sales_manager,
    )


def test_it_requires_the_csrf_token_to_delete(client, sales_manager, sales_rep):
    lead = grace_hopper(owner=sales_rep)
    client.force_login(sales_manager)
    client.handler.enforce_csrf_checks = True

    response = client.post(reverse("leads:delete", args=[lead.pk]))

    assert response.status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_it_renders_the_delete_page_with_a_fixed_number_of_queries(
    client, sales_manager, sales_rep, django_assert_num_queries
):
    lead = grace_hopper(owner=sales_rep)
    client.force_login(sales_manager)

    # session, user, roles and permissions, the lead with company and owner
    with django_assert_num_queries(4):
        assert client.get(reverse("leads:delete", args=[lead.pk])).status_code == 200


# Change history on the timeline


def _lead_with_a_country_change(client, marketer) -> Lead:
    lead = LeadFactory(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", country="DE"
    )
    client.force_login(marketer)
    client.post(
        reverse("leads:edit", args=[lead.pk]),
        _lead_form_data(country="FR", language="de", company_name=""),
    )
    return lead


def test_it_shows_who_changed_which_field_from_what_to_what(client, marketer):
    lead = _lead_with_a_country_change(client, marketer)
    ActivityFactory(lead=lead, subject="Discovery call", author=marketer)

    page = client.get(reverse("leads:detail", args=[lead.pk]), {"timeline": "changes"})

    body = page.content.decode()
    assert page.context["timeline_kind"] == "changes"
    assert '<del class="change-old">Germany</del>' in body
    assert '<ins class="change-new">France</ins>' in body
    assert '<div class="timeline-title">Country</div>' in body
    assert '<div class="timeline-title">Language</div>' in body
    assert '<ins class="change-new">German</ins>' in body
    assert f"by {marketer.get_full_name()}" in body
    assert "Discovery call" not in body
    assert 'aria-current="true">Field changes</a>' in body


def test_it_shows_field_changes_in_the_readers_language(client, marketer):
    lead = _lead_with_a_country_change(client, marketer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    body = client.get(
        reverse("leads:detail", args=[lead.pk]), {"timeline": "changes"}
    ).content.decode()
    translation.activate(settings.LANGUAGE_CODE)

    assert '<div class="timeline-title">Land</div>' in body
    assert '<del class="change-old">Deutschland</del>' in body
    assert '<ins class="change-new">Frankreich</ins>' in body
    assert '<div class="timeline-title">Sprache</div>' in body
    assert '<ins class="change-new">Deutsch</ins>' in body


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        ("all", ["Discovery call", "Download", "Created in", "Country"], []),
        ("stage", ["Created in"], ["Discovery call", "Download", ">Country<"]),
        ("activities", ["Discovery call", "Download"], ["Created in", ">Country<"]),
        ("changes", [">Country<"], ["Discovery call", "Download", "Created in"]),
        ("nonsense", ["Discovery call", "Download", "Created in", "Country"], []),
    ],
)
def test_it_filters_the_timeline_by_links_without_javascript(client, marketer, kind, shown, hidden):
    lead = services.lead_create(created_by=marketer, email="ada@example.com", country="DE")
    services.lead_update(lead_id=lead.pk, by_user=marketer, country="FR")
    ActivityFactory(lead=lead, subject="Discovery call", author=marketer)
    EventFactory(lead=lead, kind="download")
    client.force_login(marketer)

    body = client.get(reverse("leads:detail", args=[lead.pk]), {"timeline": kind}).content
    timeline = body.decode().split('id="timeline"')[1]

    for text in shown:
        assert text in timeline, text
    for text in hidden:
        assert text not in timeline, text
    detail_url = reverse("leads:detail", args=[lead.pk])
    assert f'href="{detail_url}?timeline=changes#timeline"' in timeline
    assert f'href="{detail_url}#timeline"' in timeline


def test_it_answers_the_timeline_filter_from_htmx_with_the_timeline_only(client, marketer):
    lead = _lead_with_a_country_change(client, marketer)

    response = client.get(
        reverse("leads:detail", args=[lead.pk]),
        {"timeline": "changes"},
        headers={"HX-Request": "true", "HX-Target": "timeline"},
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card timeline-card" id="timeline"')
    assert "<html" not in body
    assert "France" in body
    assert "HX-Request" in response["Vary"]


def test_it_shows_the_detail_page_with_a_fixed_number_of_queries(
    client, marketer, django_assert_num_queries
):
    lead = _lead_with_a_country_change(client, marketer)
    ActivityFactory.create_batch(3, lead=lead, author=marketer)
    EventFactory.create_batch(3, lead=lead, campaign=CampaignFactory())
    ConsentFactory(lead=lead)
    OpportunityFactory(lead=lead)

    # session, user, roles and permissions, the lead; transitions, events,
    # activities and changes for the timeline; opportunities; consents; the score card (profile,
    # grade rules, rule matches and review flag, ledger); the sales cards (assignments,
    # qualification, open tasks, the people a task can go to)
    with django_assert_num_queries(18):
        client.get(reverse("leads:detail", args=[lead.pk]))
    # session, user, roles and permissions, the lead, the changes
    with django_assert_num_queries(5):
        client.get(
            reverse("leads:detail", args=[lead.pk]),
            {"timeline": "changes"},
            headers={"HX-Request": "true", "HX-Target": "timeline"},
        )


def test_it_offers_owners_by_full_name_in_the_admin(client, admin_user, sales_rep):
    sales_rep.first_name, sales_rep.last_name = "Rita", "Rep"
    sales_rep.save()
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    page = client.get(reverse("admin:leads_lead_add")).content.decode()

    assert f'<option value="{sales_rep.pk}">Rita Rep</option>' in page


def test_it_shows_the_lead_forms_with_a_fixed_number_of_queries(
    client, sales_manager, sales_rep, django_assert_num_queries
):
    CampaignFactory.create_batch(3)
    lead = grace_hopper(owner=sales_rep)
    client.force_login(sales_manager)

    # session, user, roles and permissions, owners, first and last campaigns
    with django_assert_num_queries(6):
        assert client.get(reverse("leads:create")).status_code == 200
    # the same and the lead with its company
    with django_assert_num_queries(7):
        assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 200


INLINE_CODE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def test_it_renders_pages_without_inline_script_handlers_or_styles(
    client, sales_manager, sales_rep
):
    """A Content-Security-Policy without 'unsafe-inline' must not break any page."""
    lead = grace_hopper(owner=sales_rep)
    pool = LeadFactory(owner=None, stage=Stage.MQL)
    client.force_login(sales_manager)
    pages = [
        client.get(LIST_URL),
        client.get(LIST_URL, {"stage": "bogus"}),
        client.get(reverse("leads:detail", args=[lead.pk]), {"timeline": "changes"}),
        client.get(reverse("leads:detail", args=[pool.pk])),
        client.post(reverse("leads:create"), _lead_form_data(email="not-an-address")),
        client.get(reverse("leads:delete", args=[lead.pk])),
        client.get("/no-such-page/"),
    ]

    offenders = {
        page.request["PATH_INFO"]: INLINE_CODE.findall(page.content.decode()) for page in pages
    }

    assert all(found == [] for found in offenders.values()), offenders
    assert '<meta name="htmx-config"' in pages[0].content.decode()


@pytest.mark.parametrize(("language", "label"), [("en", "No campaign"), ("de", "Keine Kampagne")])
def test_it_labels_empty_choices_in_plain_words(client, marketer, language, label):
    client.force_login(marketer)
    client.cookies["django_language"] = language

    body = client.get(reverse("leads:create")).content.decode()

    assert "---------" not in body
    assert body.count(f">{label}</option>") == 2


# Active filters as chips


def test_it_shows_each_active_filter_as_a_chip_that_removes_just_it(client, marketer):
    campaign = CampaignFactory(name="Spring webinar")
    client.force_login(marketer)

    response = client.get(
        LIST_URL,
        {
            "stage": ["mql", "sql"],
            "unassigned": "false",
            "temperature": "hot",
            "campaign": campaign.pk,
            "created_after": "2026-03-01",
            "sort": "name",
            "cursor": "eyJwIjowfQ",
        },
    )

    chips = {(chip["label"], chip["value"]): chip["query"] for chip in response.context["chips"]}
    assert list(chips) == [
        ("Stage", "Marketing-qualified (MQL)"),
        ("Stage", "Sales-qualified (SQL)"),
        ("Assignment", "Assigned"),
        ("Temperature", "Hot"),
        ("Campaign", "Spring webinar"),
        ("Created from", "03/01/2026"),
    ]
    # Removing one stage keeps the other, every other filter and the sort; the page starts over.
    assert chips[("Stage", "Marketing-qualified (MQL)")] == (
        f"stage=sql&unassigned=false&temperature=hot&campaign={campaign.pk}"
        "&created_after=2026-03-01&sort=name"
    )
    assert chips[("Assignment", "Assigned")] == (
        f"stage=mql&stage=sql&temperature=hot&campaign={campaign.pk}"
        "&created_after=2026-03-01&sort=name"
    )
    body = response.content.decode()
    assert 'href="?stage=sql&amp;unassigned=false' in body
    assert "Clear all" in body


def test_it_shows_no_chips_without_filters_or_for_filters_that_do_not_validate(client, marketer):
    client.force_login(marketer)

    assert client.get(LIST_URL).context["chips"] == []
    assert client.get(LIST_URL, {"sort": "name"}).context["chips"] == []
    assert client.get(LIST_URL, {"temperature": "lukewarm"}).context["chips"] == []


def test_it_reads_the_assignment_filter_as_any_unassigned_or_assigned(client, marketer):
    client.force_login(marketer)

    field = client.get(LIST_URL).context["filter_form"]["unassigned"]

    assert str(field.label) == "Assignment"
    assert [(value, str(label)) for value, label in field.field.widget.choices] == [
        ("", "Any"),
        ("true", "Unassigned"),
        ("false", "Assigned"),
    ]

"""Fit grade, rank and temperature from the starter profile, computed in SQL."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leadcrm.celery import app as celery_app
from leads import services as lead_services
from leads.models import Lead
from scoring import conditions, services
from scoring.models import GradeRule
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def scored(lead: Lead) -> tuple:
    lead.refresh_from_db()
    return (lead.score.fit_points, lead.grade, lead.rank, lead.temperature)


def test_it_grades_a_decision_maker_at_a_target_company_a():
    company = CompanyFactory(
        industry="software", size_band="201-1000", annual_revenue=Decimal("25000000")
    )
    lead = LeadFactory(
        job_title="CTO", seniority="c_level", country="DE", company=company, behaviour_score=80
    )

    services.lead_rescore_fit(lead_id=lead.pk)

    # seniority c_level 30 + title "CTO" 15 + software 20 + 201-1000 20 + revenue 15 + DE 10
    assert scored(lead) == (110, "A", "A1", "hot")


@pytest.mark.parametrize(
    ("seniority", "title", "country", "expected"),
    [
        # 30 + 15 + 20 (size) + 10 (DE) = 75: the A boundary exactly
        ("vp", "VP Sales", "DE", (75, "A", "A4", "cold")),
        # 30 + 15 + 20 = 65
        ("vp", "VP Sales", "FR", (65, "B", "B4", "cold")),
        # 20 + 20 + 10 = 50: the B boundary exactly
        ("director", "Sales", "AT", (50, "B", "B4", "cold")),
        # 10 + 20 = 30
        ("manager", "Buyer", "US", (30, "C", "C4", "cold")),
        # 20 - 20 = 0
        ("", "Werkstudent Marketing", "US", (0, "D", "D4", "cold")),
    ],
)
def test_it_puts_the_grade_boundaries_where_the_profile_says(seniority, title, country, expected):
    company = CompanyFactory(industry="retail", size_band="51-200", annual_revenue=None)
    lead = LeadFactory(seniority=seniority, job_title=title, country=country, company=company)

    services.lead_rescore_fit(lead_id=lead.pk)

    assert scored(lead) == expected


@pytest.mark.parametrize(
    ("score", "rank", "temperature"),
    [
        (75, "B1", "hot"),
        (74.9, "B2", "warm"),
        (50, "B2", "warm"),
        (25, "B3", "warm"),
        (0, "B4", "cold"),
    ],
)
def test_it_ranks_by_grade_and_behaviour_band(score, rank, temperature):
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        seniority="c_level", job_title="CEO", country="DE", company=company, behaviour_score=score
    )

    services.lead_rescore_fit(lead_id=lead.pk)

    assert scored(lead)[1:] == ("B", rank, temperature)


def test_it_rescores_every_lead_in_three_statements(django_assert_num_queries):
    LeadFactory.create_batch(5, seniority="c_level", job_title="CEO")
    LeadFactory.create_batch(3)

    # profile, rules, the UPDATE of fit points, the UPDATE of grade, rank and temperature, the
    # UPDATE of the score rows' copies of the temperature, and the savepoint around it (the test
    # runs in a transaction)
    with django_assert_num_queries(7):
        changed = services.leads_rescore_fit()

    assert changed == 8
    assert services.leads_rescore_fit() == 0  # nothing left to change


def test_it_grades_a_new_lead_and_an_edited_one(
    eager_tasks, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_services.lead_create(
            created_by=marketer, email="ceo@example.com", seniority="c_level", job_title="CEO"
        )
    assert scored(lead)[:2] == (45, "C")

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_update(lead_id=lead.pk, by_user=marketer, country="CH")
    assert scored(lead)[:2] == (55, "B")


def test_it_grades_a_companys_leads_again_when_the_admin_edits_its_industry(
    eager_tasks, admin_client, django_capture_on_commit_callbacks
):
    company = CompanyFactory(name="Acme", industry="", size_band="", annual_revenue=None)
    ceo = LeadFactory(company=company, seniority="c_level", job_title="CEO", country="")
    other = LeadFactory(company=None, seniority="c_level", job_title="CEO", country="")
    services.leads_rescore_fit()
    assert scored(ceo)[:2] == scored(other)[:2] == (45, "C")  # c_level 30 + CEO 15

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/leads/company/{company.pk}/change/",
            {
                "name": "Acme",
                "domain": "",
                "industry": "software",
                "size_band": "",
                "annual_revenue": "",
                "revenue_currency": "EUR",
            },
        )

    assert response.status_code == 302
    # + software 20 = 65: grade B at once, not at the next nightly run; other leads unchanged
    assert scored(ceo)[:2] == (65, "B")
    assert scored(other)[:2] == (45, "C")


@pytest.mark.parametrize(
    ("field", "operator", "value", "message_field"),
    [
        ("company__annual_revenue", "in", "1000", "operator"),
        ("job_title", "gte", "10", "operator"),
        ("company__annual_revenue", "gte", "ten million", "value"),
        ("city", "in", " , ", "value"),
    ],
)
def test_it_refuses_a_rule_whose_operator_or_value_does_not_fit(
    field, operator, value, message_field
):
    rule = GradeRule(field=field, operator=operator, value=value, points=5)

    with pytest.raises(ValidationError) as invalid:
        conditions.grade_rule_validate(rule)

    assert list(invalid.value.message_dict) == [message_field]


@pytest.mark.parametrize("model", ["scoringprofile", "graderule", "behaviourrule"])
def test_it_shows_scoring_rules_in_the_admin_but_lets_nobody_change_them_there(
    client, admin_user, model
):
    from django.urls import reverse

    client.force_login(admin_user)

    listing = client.get(reverse(f"admin:scoring_{model}_changelist"))
    add = client.get(reverse(f"admin:scoring_{model}_add"))

    assert (listing.status_code, add.status_code) == (200, 403)

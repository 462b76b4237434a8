import pytest
from django.core.exceptions import ValidationError

from leads import services
from leads.lifecycle import Stage
from leads.models import Company, Lead, StageTransition
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_lead_with_its_first_history_entry(marketer):
    lead = services.lead_create(
        created_by=marketer, email=" grace@example.com ", first_name="Grace"
    )

    assert lead.email == "grace@example.com"
    entry = StageTransition.objects.get(lead=lead)
    assert (entry.from_stage, entry.to_stage, entry.by_user) == ("", Stage.UNQUALIFIED, marketer)
    assert lead.stage_changed_at == entry.at == lead.created_at


def test_it_reuses_a_company_whatever_the_case_and_spacing(marketer):
    existing = CompanyFactory(name="Acme Rockets")

    lead = services.lead_create(
        created_by=marketer, email="w@example.com", company_name="  acme   rockets "
    )

    assert lead.company == existing
    assert Company.objects.count() == 1


def test_it_creates_a_missing_company(marketer):
    lead = services.lead_create(created_by=marketer, email="n@example.com", company_name="Nova AG")

    assert lead.company.name == "Nova AG"


def test_it_refuses_fields_that_only_other_services_set(marketer):
    with pytest.raises(ValidationError) as invalid:
        services.lead_create(created_by=marketer, email="s@example.com", behaviour_score=99)

    assert list(invalid.value.message_dict) == ["behaviour_score"]
    assert not Lead.objects.exists()


def test_it_rolls_back_the_new_company_when_the_lead_is_invalid(marketer):
    LeadFactory(email="taken@example.com")

    with pytest.raises(ValidationError) as invalid:
        services.lead_create(
            created_by=marketer, email="TAKEN@example.com", company_name="Ghost GmbH"
        )

    assert "email" in invalid.value.message_dict
    assert not Company.objects.filter(name="Ghost GmbH").exists()


def test_it_updates_only_what_changed(marketer):
    lead = LeadFactory(city="Köln")
    before = lead.updated_at

    unchanged = services.lead_update(lead_id=lead.pk, by_user=None, city="Köln")
    assert unchanged.updated_at == before

    services.lead_update(lead_id=lead.pk, by_user=None, city="Berlin", company_name="Other Co")
    lead.refresh_from_db()
    assert (lead.city, lead.company.name) == ("Berlin", "Other Co")
    assert lead.updated_at > before


def test_it_refuses_to_update_to_another_leads_email(marketer):
    LeadFactory(email="first@example.com")
    second = LeadFactory(email="second@example.com")

    with pytest.raises(ValidationError) as invalid:
        services.lead_update(lead_id=second.pk, by_user=None, email="First@Example.com")

    assert "email" in invalid.value.message_dict
    second.refresh_from_db()
    assert second.email == "second@example.com"


def test_it_unlinks_the_company_when_the_name_is_cleared_and_keeps_it_when_not_given():
    lead = LeadFactory(company=CompanyFactory(name="Keep AG"))

    services.lead_update(lead_id=lead.pk, by_user=None, city="Bonn")
    lead.refresh_from_db()
    assert lead.company.name == "Keep AG"

    services.lead_update(lead_id=lead.pk, by_user=None, company_name="  ")
    lead.refresh_from_db()
    assert lead.company is None
    assert Company.objects.filter(name="Keep AG").exists()

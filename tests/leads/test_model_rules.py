"""Canonical e-mail, companies by domain, lead creation rules, constraint errors, events."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from leads import event_services, services
from leads.lifecycle import Stage
from leads.models import Company, Event, EventKey, Lead, StageTransition
from leads.normalize import normalize_domain, normalize_email
from tests.concurrency import run_in_threads
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Grace@Example.COM ", "grace@example.com"),
        ("max@Bücher.DE", "max@xn--bcher-kva.de"),
        ("ops@example.com.", "ops@example.com"),
    ],
)
def test_it_normalises_e_mail_addresses(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("acme.com.", "acme.com"),
        ("WWW.bücher.de", "xn--bcher-kva.de"),
        ("http://shop.example.org:8080/", "shop.example.org"),
        ("  ", ""),
    ],
)
def test_it_normalises_company_domains(typed, stored):
    assert normalize_domain(typed) == stored


def test_it_treats_the_same_address_in_another_spelling_as_a_duplicate(marketer):
    services.lead_create(created_by=marketer, email="max@bücher.de")

    with pytest.raises(ValidationError) as invalid:
        services.lead_create(created_by=marketer, email=" MAX@xn--bcher-kva.DE ")

    assert list(invalid.value.message_dict) == ["email"]
    assert Lead.objects.get().email_key == "max@xn--bcher-kva.de"


def test_it_upserts_on_the_normalised_address():
    LeadFactory(email="grace@example.com", city="Köln")

    Lead.objects.bulk_create(
        [Lead(email="grace@example.com", email_key="grace@example.com", city="Bonn")],
        update_conflicts=True,
        unique_fields=["email_key"],
        update_fields=["city"],
    )

    assert list(Lead.objects.values_list("email_key", "city")) == [("grace@example.com", "Bonn")]


def test_it_starts_every_new_lead_unqualified(marketer):
    with pytest.raises(ValidationError) as invalid:
        services.lead_create(created_by=marketer, email="c@example.com", stage=Stage.CUSTOMER)

    assert list(invalid.value.message_dict) == ["stage"]
    assert not Lead.objects.exists()


def test_it_lets_an_import_start_a_lead_elsewhere_and_says_why(marketer, sales_rep):
    lead = services.lead_create(
        created_by=marketer,
        email="c@example.com",
        owner=sales_rep,
        stage=Stage.CUSTOMER,
        stage_reason="Customer since 2019, moved over from the old CRM",
    )

    first = StageTransition.objects.get(lead=lead)
    assert (first.from_stage, first.to_stage, first.by_user, first.by_rule) == (
        "",
        "customer",
        marketer,
        "import",
    )
    assert first.reason == "Customer since 2019, moved over from the old CRM"


def test_it_finds_companies_by_domain_and_lets_names_repeat():
    first = services.company_get_or_create(name="Müller GmbH", domain="https://www.mueller.de/")
    same = services.company_get_or_create(name="Mueller", domain="MUELLER.de")
    namesake = services.company_get_or_create(name="Müller GmbH", domain="mueller-bau.de")

    assert same == first
    assert namesake != first
    assert sorted(Company.objects.values_list("domain", flat=True)) == [
        "mueller-bau.de",
        "mueller.de",
    ]


def test_it_keeps_one_company_per_domain_in_the_database():
    CompanyFactory(domain="acme.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(name="Acme again", domain="acme.com")
    Company.objects.create(name="No domain 1", domain="")
    Company.objects.create(name="No domain 2", domain="")


def _integrity_error(write) -> IntegrityError:
    try:
        with transaction.atomic():
            write()
    except IntegrityError as exc:
        return exc
    raise AssertionError("the write was expected to violate a constraint")


def test_it_names_the_field_of_the_constraint_that_failed(sales_rep):
    lead = LeadFactory(stage=Stage.SQL, owner=sales_rep, email="a@example.com")
    LeadFactory(email="b@example.com")

    no_owner = _integrity_error(lambda: Lead.objects.filter(pk=lead.pk).update(owner=None))
    taken = _integrity_error(
        lambda: Lead.objects.filter(pk=lead.pk).update(email_key="b@example.com")
    )
    bad_grade = _integrity_error(lambda: Lead.objects.filter(pk=lead.pk).update(grade="E"))

    assert services._constraint_error(no_owner).message_dict == {
        "owner": ["A lead in this stage needs an owner."]
    }
    assert services._constraint_error(taken).message_dict == {
        "email": ["A lead with this e-mail address already exists."]
    }
    # Nobody can fix an invalid grade in a form: that one is not passed off as a field error.
    with pytest.raises(IntegrityError):
        services._constraint_error(bad_grade)


@pytest.mark.parametrize(
    ("field", "value"),
    [("grade", "E"), ("rank", "A9"), ("temperature", "mild")],
)
def test_it_refuses_impossible_scores_in_the_database(field, value):
    lead = LeadFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(**{field: value})


def test_it_stores_an_event_once_per_idempotency_key():
    lead = LeadFactory()

    first = event_services.event_record(lead=lead, kind="email_open", idempotency_key="msg-1:open")
    retried = event_services.event_record(
        lead=lead, kind="email_open", idempotency_key="msg-1:open"
    )
    other = event_services.event_record(lead=lead, kind="email_open", idempotency_key="msg-2:open")

    assert first is not None
    assert retried is None
    assert other is not None
    assert Event.objects.filter(lead=lead).count() == 2
    assert EventKey.objects.get(key="msg-1:open").event == first


def test_it_needs_a_lead_or_a_visitor_for_an_event():
    with pytest.raises(ValidationError) as invalid:
        event_services.event_record(kind="page_view")

    assert list(invalid.value.message_dict) == ["visitor_id"]
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_event_when_the_same_key_arrives_from_many_workers_at_once():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")

    results = run_in_threads(
        6,
        lambda _: event_services.event_record(
            visitor_id="v-123", kind="page_view", idempotency_key="batch-7:0"
        ),
    )

    assert sum(isinstance(r, Event) for r in results) == 1
    assert results.count(None) == 5
    assert Event.objects.count() == 1


def test_it_prunes_idempotency_keys_past_the_retry_window():
    import datetime as dt

    lead = LeadFactory()
    old = event_services.event_record(lead=lead, kind="email_open", idempotency_key="old")
    event_services.event_record(lead=lead, kind="email_open", idempotency_key="new")
    EventKey.objects.filter(key="old").update(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    removed = event_services.event_keys_prune(older_than=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))

    assert removed == 1
    assert list(EventKey.objects.values_list("key", flat=True)) == ["new"]
    assert Event.objects.filter(pk=old.pk).exists()


def test_it_indexes_events_for_the_queries_it_serves():
    if connection.vendor != "postgresql":
        pytest.fail("The index layout is PostgreSQL's: run with `make test`.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_event'")
        names = {row[0] for row in cursor.fetchall()}

    assert names == {
        "leads_event_pkey",
        "event_lead_at",
        "event_anonymous_visitor",
        "event_campaign_at",
        "event_kind_at",
    }


def test_it_indexes_leads_without_the_unused_rank_index():
    if connection.vendor != "postgresql":
        pytest.fail("The index layout is PostgreSQL's: run with `make test`.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'")
        names = {row[0] for row in cursor.fetchall()}

    assert "lead_stage_rank" not in names
    assert "lead_email_key_unique" in names
    assert not any(name.startswith("lead_email_ci") for name in names)

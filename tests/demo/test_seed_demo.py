import itertools
import re
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import F
from django.test import RequestFactory

from capture.models import CaptureForm, OutboundEmail
from leadcrm.roles import Role
from leads.lifecycle import Stage, is_allowed
from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Industry,
    Lead,
    Opportunity,
    StageTransition,
)
from scoring.models import MqlReview, ScoreEntry
from scoring.rescoring import rescore_all
from scoring.services import active_profile, leads_rescore_fit

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 6, 17)
MODELS = [
    Campaign,
    CampaignCost,
    Company,
    Lead,
    StageTransition,
    Event,
    Opportunity,
    Activity,
    Consent,
]
GERMAN_TOWNS = {
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
    "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Bielefeld",
    "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Freiburg im Breisgau", "Aachen",
    "Kiel", "Regensburg", "Ulm", "Paderborn", "Ingolstadt", "Wolfsburg", "Heidelberg", "Jena",
}  # fmt: skip
GERMAN_WORDS = {"der", "die", "das", "den", "dem", "und", "mit", "für", "nach", "ist", "zum", "zur"}
ENGLISH_WORDS = {"the", "and", "with", "for", "to", "of", "is", "a", "after", "they"}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2026, 6, 17, 10, 30, tzinfo=UTC), tick=False):
        yield


def seed(*extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--leads", "300", "--seed", "7", *extra, stdout=out)
    return out.getvalue()


def histories() -> dict[int, list[StageTransition]]:
    by_lead: dict[int, list[StageTransition]] = {}
    for transition in StageTransition.objects.order_by("lead_id", "at", "id"):
        by_lead.setdefault(transition.lead_id, []).append(transition)
    return by_lead


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_it_creates_leads_in_every_stage():
    output = seed()

    assert Lead.objects.count() == 300
    assert set(Lead.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert "leads" in output


def test_it_follows_the_lifecycle_in_every_history():
    seed()

    leads = {lead.id: lead for lead in Lead.objects.all()}
    by_lead = histories()

    assert set(by_lead) == set(leads)
    for lead_id, rows in by_lead.items():
        lead = leads[lead_id]
        assert rows[0].from_stage == ""
        assert rows[0].to_stage == Stage.UNQUALIFIED
        assert rows[0].at == lead.created_at
        assert rows[-1].to_stage == lead.stage
        assert rows[-1].at == lead.stage_changed_at
        for previous, row in itertools.pairwise(rows):
            assert row.from_stage == previous.to_stage
            assert is_allowed(row.from_stage, row.to_stage)
            assert row.at > previous.at
            assert row.by_user_id is not None or row.by_rule == "scoring:mql_threshold"


def test_it_takes_days_to_weeks_between_stages():
    seed()

    gaps = [
        later.at - earlier.at
        for rows in histories().values()
        for earlier, later in itertools.pairwise(rows)
    ]
    to_customer = [
        lead.stage_changed_at - lead.created_at
        for lead in Lead.objects.filter(stage=Stage.CUSTOMER)
    ]

    assert min(gaps) >= timedelta(hours=12)
    assert timedelta(days=2) <= statistics.median(gaps) <= timedelta(days=45)
    assert min(to_customer) >= timedelta(days=14)
    assert timedelta(weeks=4) <= statistics.median(to_customer) <= timedelta(weeks=26)


def test_it_creates_leads_within_their_first_campaigns_run():
    seed()

    leads = Lead.objects.filter(first_campaign__isnull=False).select_related("first_campaign")

    assert leads.count() >= 250
    for lead in leads:
        campaign = lead.first_campaign
        created_on = lead.created_at.astimezone(BERLIN).date()
        assert campaign.starts_on <= created_on <= (campaign.ends_on or TODAY), lead.email


def test_it_creates_most_leads_on_weekdays_in_business_hours():
    seed()

    local = [at.astimezone(BERLIN) for at in Lead.objects.values_list("created_at", flat=True)]
    in_hours = [at for at in local if at.weekday() < 5 and 8 <= at.hour < 18]

    assert len(in_hours) >= 0.8 * len(local)
    assert len(in_hours) < len(local)


def test_it_draws_more_leads_from_content_and_referrals_than_from_lists_and_cold_calls():
    seed()

    by_channel = Counter(Lead.objects.values_list("source_channel", flat=True))

    for many in ["seo", "newsletter", "webinar", "referral"]:
        for few in ["purchased_list", "cold_call"]:
            assert by_channel[many] > by_channel[few] > 0, (many, few, by_channel)


def test_it_grades_few_leads_a():
    seed()

    grades = Counter(Lead.objects.values_list("grade", flat=True))

    assert 0 < grades["A"] <= 0.10 * 300
    assert grades["A"] < grades["B"] < grades["C"]


def test_it_scores_every_lead_as_the_scoring_profile_does():
    seed()

    changed = leads_rescore_fit()

    assert changed == 0
    assert Lead.objects.filter(score__fit_points__gt=0).count() >= 250


def test_it_leaves_scoring_nothing_to_change():
    """The demo's scores are the scoring app's: scoring every lead again by its events changes no
    rank and promotes no one."""
    seed()
    profile = active_profile()

    outcome = rescore_all(profile=profile, rebuild=list(profile.behaviour_rules.all()))

    assert (outcome.leads, outcome.rank_changed, outcome.become_mql) == (300, 0, 0)


def test_it_explains_every_behaviour_score_with_the_ledger():
    seed()
    now = datetime(2026, 6, 17, 10, 30, tzinfo=UTC)
    sums: dict[int, float] = {}
    for lead_id, points, at in ScoreEntry.objects.values_list("lead_id", "points", "at"):
        age_days = (now - at).total_seconds() / 86400
        sums[lead_id] = sums.get(lead_id, 0.0) + points * 0.5 ** (age_days / 30)

    stored = Lead.objects.values_list("id", "score__behaviour_score")

    assert len(sums) >= 250
    # To two decimal places, as the lead page and the API show them.
    assert {pk: round(sums.get(pk, 0.0), 2) for pk, _score in stored} == {
        pk: round(score, 2) for pk, score in stored
    }


def test_it_shows_every_temperature_and_a_spread_of_ranks():
    seed()

    temperatures = Counter(Lead.objects.values_list("temperature", flat=True))
    ranks = set(Lead.objects.values_list("rank", flat=True))

    assert temperatures["hot"] > 0
    assert temperatures["warm"] > temperatures["hot"]
    assert temperatures["cold"] > temperatures["warm"]
    assert {rank[0] for rank in ranks} == {"A", "B", "C", "D"}  # every grade
    assert {rank[1] for rank in ranks} == {"1", "2", "3", "4"}  # and every band


def test_it_keeps_rank_and_temperature_consistent():
    seed()

    for grade, rank, temperature in Lead.objects.values_list("grade", "rank", "temperature"):
        assert rank[0] == grade
        assert rank[1] in "1234"
        if rank in {"A1", "A2", "B1"}:
            assert temperature == "hot"
        elif rank in {"A3", "B2", "B3", "C1", "C2"}:
            assert temperature == "warm"
        else:
            assert temperature == "cold"


def test_it_promotes_only_good_fits_with_the_mql_rule():
    seed()

    promoted = Lead.objects.filter(transitions__by_rule="scoring:mql_threshold").distinct()
    waiting = Lead.objects.filter(stage=Stage.UNQUALIFIED, grade__in=["A", "B"])

    assert promoted.exists()
    assert set(promoted.values_list("grade", flat=True)) <= {"A", "B"}
    assert waiting.exists()
    assert not waiting.filter(score__behaviour_score__gte=50).exists()


def test_it_asks_purchased_list_leads_before_mailing_them():
    seed()

    consents = Consent.objects.filter(
        lead__source_channel="purchased_list", purpose="marketing_email"
    )

    assert consents.filter(status="pending").exists()
    assert not consents.filter(status="granted", confirmed_at__isnull=True).exists()
    # Granted or pending came with the import; only an unsubscribe withdraws.
    assert set(consents.exclude(status="withdrawn").values_list("source", flat=True)) == {"import"}
    assert set(consents.filter(status="withdrawn").values_list("source", flat=True)) <= {
        "unsubscribe_link"
    }


def test_it_gives_de_leads_german_towns_and_phone_numbers():
    seed()

    german = Lead.objects.filter(country="DE")
    phones = [phone for phone in german.values_list("phone", flat=True) if phone]

    assert german.count() >= 150
    assert set(german.values_list("city", flat=True)) <= GERMAN_TOWNS
    assert len(phones) >= 0.6 * german.count()
    for phone in phones:
        assert re.fullmatch(r"\+49 \d{2,4} \d{5,8}", phone), phone


def test_it_writes_notes_in_the_leads_language():
    seed()

    notes = Activity.objects.values_list("lead__language", "body")
    german = [words(body) for language, body in notes if language == "de"]
    english = [words(body) for language, body in notes if language == "en"]

    assert german
    assert english
    for body in german:
        assert body & GERMAN_WORDS
        assert not body & ENGLISH_WORDS
    for body in english:
        assert body & ENGLISH_WORDS
        assert not body & GERMAN_WORDS


def test_it_uses_valid_codes():
    seed()

    assert set(Lead.objects.values_list("country", flat=True)) <= {
        "DE", "AT", "CH", "GB", "IE", "US", "CA",
    }  # fmt: skip
    assert set(Lead.objects.values_list("language", flat=True)) == {"de", "en"}
    assert Lead.objects.filter(country="DE", language="de").count() >= 0.8 * (
        Lead.objects.filter(country="DE").count()
    )
    assert set(Company.objects.values_list("industry", flat=True)) <= set(Industry.values)
    assert set(Consent.objects.values_list("source", flat=True)) <= set(Consent.Source.values)


def test_it_keys_every_lead_by_its_lower_case_email():
    seed()

    emails = list(Lead.objects.values_list("email", "email_key"))

    assert all(key == email.lower() for email, key in emails)
    assert any(key != email for email, key in emails)
    assert len({key for _email, key in emails}) == 300
    assert all(key.endswith(".example") for _email, key in emails)


def test_it_gives_companies_unique_normalised_domains():
    seed()

    domains = list(Company.objects.values_list("domain", flat=True))

    assert len(domains) == 30
    assert len(set(domains)) == 30
    for domain in domains:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.example", domain), domain


def test_it_gives_every_customer_a_won_opportunity():
    seed()

    customers = set(Lead.objects.filter(stage=Stage.CUSTOMER).values_list("id", flat=True))
    won = set(
        Opportunity.objects.filter(status=Opportunity.Status.WON, amount__gt=0).values_list(
            "lead_id", flat=True
        )
    )

    assert customers
    assert won == customers
    assert set(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN).values_list("lead_id", flat=True)
    ) == set(Lead.objects.filter(stage=Stage.OPPORTUNITY).values_list("id", flat=True))


def test_it_assigns_sales_reps_to_leads_sales_worked_on():
    seed()

    worked = Lead.objects.filter(stage__in=[Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER])

    assert worked.exists()
    assert not worked.filter(owner__isnull=True).exists()
    assert set(worked.values_list("owner__username", flat=True)) == {"rep", "rep2"}


def test_it_changes_nothing_when_run_twice():
    seed()
    before = Counter({model.__name__: model.objects.count() for model in MODELS})

    output = seed()

    assert "Demo data already present" in output
    assert Counter({model.__name__: model.objects.count() for model in MODELS}) == before


def test_it_is_reproducible_by_seed():
    seed()
    first = list(Lead.objects.order_by("id").values_list("email", "stage", "rank", "created_at"))
    Lead.objects.all().delete()
    Campaign.objects.all().delete()
    Company.objects.all().delete()

    seed()

    assert (
        list(Lead.objects.order_by("id").values_list("email", "stage", "rank", "created_at"))
        == first
    )


@pytest.mark.parametrize(
    ("username", "role", "is_staff"),
    [
        ("marketer", Role.MARKETER, False),
        ("rep", Role.SALES_REP, False),
        ("rep2", Role.SALES_REP, False),
        ("manager", Role.SALES_MANAGER, False),
        ("admin", Role.ADMIN, True),
    ],
)
def test_it_creates_demo_users_who_can_log_in(username, role, is_staff):
    seed()
    seed()

    # As the login form does: django-axes needs the request to count failures per address.
    user = authenticate(
        RequestFactory().post("/login/"), username=username, password="demo-password"
    )

    assert user is not None
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.is_staff is is_staff
    assert user.is_superuser is is_staff


def test_demo_reps_have_qualifications_rejections_and_open_tasks():
    from sales.models import Qualification, Rejection
    from sales.selectors import my_tasks

    seed()

    accepted = Lead.objects.filter(transitions__from_stage="mql", transitions__to_stage="sql")
    assert accepted.exists()
    # Every lead sales accepted has the qualification that let it pass (3 of 4 BANT by default).
    assert not accepted.exclude(qualification__isnull=False).exists()
    for qualification in Qualification.objects.filter(lead__in=accepted):
        assert qualification.bant_confirmed >= 3
    exits = StageTransition.objects.filter(
        from_stage="mql", to_stage__in=["nurture", "disqualified"]
    )
    assert Rejection.objects.count() == exits.count() > 0
    for username in ["rep", "rep2"]:
        tasks = my_tasks(
            user=authenticate(
                RequestFactory().get("/"), username=username, password="demo-password"
            )
        )
        # Besides the history's open tasks, each rep has eight around today on leads they work:
        # two overdue, two later today (12:00 and 14:00 UTC), four in the days ahead.
        assert len(tasks.overdue) >= 2
        assert len(tasks.today) == 2
        assert len(tasks.upcoming) >= 4


def test_it_gives_sales_a_queue_of_fresh_mqls_with_few_to_review():
    started = datetime.now(UTC)
    seed()

    # Sales works an MQL within days (MQL → SQL takes 10 days at most in the demo): none has
    # waited longer, and most still meet the MQL condition, so "review" is the exception.
    waiting = Lead.objects.filter(stage=Stage.MQL)
    oldest = min(waiting.values_list("stage_changed_at", flat=True))
    assert started - oldest < timedelta(days=10)
    assert MqlReview.objects.count() * 3 < waiting.count()


def test_it_gives_marketing_forms_with_submissions_and_waiting_confirmations():
    seed()

    forms = {form.slug: form for form in CaptureForm.objects.all()}
    assert set(forms) == {"webinar-mql-to-revenue", "ebook-funnel-benchmarks"}
    assert forms["webinar-mql-to-revenue"].double_opt_in
    assert not forms["ebook-funnel-benchmarks"].double_opt_in
    for form in forms.values():
        campaigns = set(form.submissions.values_list("event__campaign", flat=True))
        assert campaigns == {form.campaign_id}  # the form's own sign-ups
    pending = Consent.objects.filter(status="pending", source_detail="form:webinar-mql-to-revenue")
    assert pending.count() == 3
    assert OutboundEmail.objects.filter(lead__in=pending.values("lead")).count() == 3


def test_the_demo_assigns_mqls_by_its_rules_with_one_rep_away_and_some_overdue():
    from sales.models import Assignment, RepProfile
    from sales.sla import overdue_assignments

    output = seed()

    by_rule = Assignment.objects.exclude(rule_name="")
    assert by_rule.exists()
    assert not by_rule.filter(owner__username="rep3").exists()
    assert RepProfile.objects.get(user__username="rep3").is_away()
    dach = by_rule.filter(team__name="DACH")
    assert set(dach.values_list("lead__country", flat=True)) <= {"DE", "AT", "CH"}
    assert set(dach.values_list("owner__username", flat=True)) == {"rep"}
    # Each MQL was assigned when it became one: those older than their SLA are overdue now.
    now = datetime.now(UTC)
    overdue = overdue_assignments(now).count()
    assert overdue == by_rule.filter(sla_due_at__lte=now, lead__stage="mql").count()
    assert re.search(rf"overdue\s+{overdue}\n", output)


def test_every_owned_demo_lead_has_its_owner_running_assignment():
    from sales.models import Assignment

    seed()

    owned = Lead.objects.filter(owner__isnull=False)
    running = Assignment.objects.filter(sla_closed_at__isnull=True)
    assert owned.count() > 10
    assert running.count() == owned.count()
    assert not running.exclude(owner_id=F("lead__owner_id")).exists()

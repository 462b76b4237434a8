"""Rule changes: the set-based ledger, previews that equal the save, versions, bulk promotion."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from leads import event_services
from leads import services as lead_services
from leads import signals as lead_signals
from leads.models import Lead, StageTransition
from scoring import proposals, services
from scoring import rescoring as rescorings
from scoring.models import MqlReview, ProfileVersion, Rescoring, ScoreEntry, ScoringProfile
from tests.concurrency import run_in_threads
from tests.factories import CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

MQL_RULE = services.MQL_RULE
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 2 March 2026 is a Monday


def lead_with_fit(country: str, **fields) -> Lead:
    """c_level 30 + "CEO" 15 (+ 10 for DE): 55 fit points (B) or 45 (C)."""
    company = CompanyFactory(industry="retail", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        seniority="c_level", job_title="CEO", country=country, company=company, **fields
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    return lead


def happen(lead: Lead, kind: str, at: datetime = MONDAY, url: str = "") -> None:
    event = event_services.event_record(lead=lead, kind=kind, occurred_at=at, url=url)
    services.event_score(event_id=event.pk)


def ledger(lead: Lead) -> list[tuple[str, int, datetime]]:
    return list(
        ScoreEntry.objects.filter(lead=lead)
        .order_by("at", "rule__position")
        .values_list("rule__name", "points", "at")
    )


def proposal_with(change) -> dict:
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    return proposal


def behaviour_rule(proposal: dict, name: str) -> dict:
    return next(rule for rule in proposal["behaviour_rules"] if rule["name"] == name)


def run(kind: str, proposal: dict, by_user) -> Rescoring:
    rescoring = rescorings.rescoring_start(kind=kind, proposal=proposal, by_user=by_user)
    rescorings.rescoring_run(rescoring_id=rescoring.pk)
    rescoring.refresh_from_db()
    return rescoring


def test_it_counts_a_cap_in_calendar_weeks_from_monday():
    lead = lead_with_fit("US")
    days = [MONDAY + timedelta(days=d) for d in (5, 6, 7, 8, 9)]  # Sat, Sun, Mon, Tue, Wed
    for day in days:
        happen(lead, "pricing_page_view", day)

    # Pricing page: 15 once a day, at most 30 a week. Saturday and Sunday fill the first week;
    # Monday starts a new one (a rolling 7-day window would give Monday and Tuesday nothing).
    assert [points for _name, points, _at in ledger(lead)] == [15, 15, 15, 15]
    assert [at for _name, _points, at in ledger(lead)] == days[:4]


def test_it_derives_the_same_ledger_from_the_events_as_scoring_them_one_by_one():
    lead = lead_with_fit("US")
    other = lead_with_fit("US")
    week = [MONDAY + timedelta(days=d, hours=h) for d in range(9) for h in (0, 3)]
    for at in week:  # 18 opens: +1 each, at most 5 a week
        happen(lead, "email_open", at)
    for at in (MONDAY, MONDAY + timedelta(hours=2), MONDAY + timedelta(days=1)):
        happen(lead, "page_view", at, url="https://example.com/careers/jobs")
        happen(other, "pricing_page_view", at)
    happen(lead, "newsletter_signup", MONDAY)
    happen(lead, "newsletter_signup", MONDAY + timedelta(days=3))
    happen(lead, "unsubscribe", MONDAY + timedelta(days=4))
    one_by_one = {lead.pk: ledger(lead), other.pk: ledger(other)}

    with time_machine.travel(MONDAY + timedelta(days=10), tick=False):
        rescorings.rescore_all(rebuild=list(services.active_profile().behaviour_rules.all()))

    opens = [(n, p) for n, p, _at in one_by_one[lead.pk] if n == "E-mail opened"]
    # Week of 2 March: Mon to Sun, 14 opens, the first 5 count; week of 9 March: Mon, Tue, 4 count.
    assert opens == [("E-mail opened", 1)] * 9
    careers = [(n, p) for n, p, _at in one_by_one[lead.pk] if n == "Careers page"]
    assert careers == [("Careers page", -10)]  # once ever
    # "Page view" (+1 once a day) matches a careers page too: Monday and Tuesday.
    assert [p for n, p, _at in one_by_one[lead.pk] if n == "Page view"] == [1, 1]
    assert [p for n, p, _at in one_by_one[lead.pk] if n == "Newsletter sign-up"] == [5]
    assert [p for n, p, _at in one_by_one[other.pk]] == [15, 15]  # once a day, twice
    assert {lead.pk: ledger(lead), other.pk: ledger(other)} == one_by_one


def test_it_previews_exactly_what_saving_then_does(django_capture_on_commit_callbacks):
    admin = UserFactory(username="ada")
    with time_machine.travel(MONDAY, tick=False):
        climber = lead_with_fit("US", first_name="Clara")  # 45: C
        for kind in ("demo_request", "webinar_attended"):
            happen(climber, kind)  # 40 + 20 = 60: C2, warm, unqualified (a C never becomes MQL)
        steady = lead_with_fit("DE")  # 55: B
        happen(steady, "demo_request")  # 40: B3, warm
        cooled = lead_with_fit("DE", stage="mql")  # an MQL from before, 55: B
        happen(cooled, "demo_request")  # 40: B3, below the MQL condition, not flagged yet
        idle = LeadFactory(company=None)  # 0: D4, cold
        services.lead_rescore_fit(lead_id=idle.pk)

    def change(proposal):
        proposal["profile"]["grade_b_min"] = 45
        behaviour_rule(proposal, "Demo request")["points"] = 30

    with time_machine.travel(MONDAY, tick=False):
        preview = run("preview", proposal_with(change), admin)
        assert preview.status == Rescoring.Status.DONE
        # Nothing of the preview is kept.
        assert services.active_profile().grade_b_min == 50
        assert ledger(steady) == [("Demo request", 40, MONDAY)]
        with django_capture_on_commit_callbacks(execute=False):
            saved = rescorings.rescoring_save_preview(preview_id=preview.pk, by_user=admin)
        rescorings.rescoring_run(rescoring_id=saved.pk)
        saved.refresh_from_db()

    # Clara: 45 ≥ 45 is a B now; 30 + 20 = 50 is band 2: B2 and an MQL. The steady lead: 30, B3
    # (no change of rank); the cooled MQL: 30, flagged; the idle lead: nothing.
    expected = {
        "leads": 4,
        "grade_changed": 1,
        "rank_changed": 1,
        "temperature_changed": 0,
        "become_mql": 1,
        "flagged": 1,
        "grade_moves": {"C→B": 1},
    }
    assert {k: v for k, v in preview.result.items() if k != "samples"} == expected
    assert {k: v for k, v in saved.result.items() if k != "samples"} == expected
    assert [
        (s["first_name"], s["grade"], s["new_grade"], s["rank"], s["new_rank"], s["new_score"])
        for s in preview.result["samples"]
    ] == [("Clara", "C", "B", "C2", "B2", 50.0)]
    stored = {
        lead.pk: (lead.grade, lead.rank, lead.score.behaviour_score, lead.stage)
        for lead in Lead.objects.all()
    }
    assert stored == {
        climber.pk: ("B", "B2", 50.0, "mql"),
        steady.pk: ("B", "B3", 30.0, "unqualified"),
        cooled.pk: ("B", "B3", 30.0, "mql"),
        idle.pk: ("D", "D4", 0.0, "unqualified"),
    }
    assert StageTransition.objects.get(lead=climber, to_stage="mql").by_rule == MQL_RULE
    assert list(MqlReview.objects.values_list("lead_id", flat=True)) == [cooled.pk]
    version = ProfileVersion.objects.get(version=2)
    assert (version.version, version.saved_by, version.snapshot["profile"]["grade_b_min"]) == (
        2,
        admin,
        45,
    )
    assert behaviour_rule(version.snapshot, "Demo request")["points"] == 30


def test_it_refuses_to_save_a_preview_over_a_newer_version():
    admin = UserFactory()
    first = run("preview", proposal_with(lambda p: p["profile"].update(half_life_days=20)), admin)
    second = run("preview", proposal_with(lambda p: p["profile"].update(half_life_days=40)), admin)
    rescorings.rescoring_run(
        rescoring_id=rescorings.rescoring_save_preview(preview_id=first.pk, by_user=admin).pk
    )

    with pytest.raises(ValidationError) as error:
        rescorings.rescoring_save_preview(preview_id=second.pk, by_user=admin)

    assert "base_version" in error.value.message_dict
    assert services.active_profile().half_life_days == 20


def test_it_takes_a_deleted_rules_points_away():
    with time_machine.travel(MONDAY, tick=False):
        lead = lead_with_fit("DE")
        happen(lead, "demo_request")
        happen(lead, "email_click")

        def drop_demo(proposal):
            proposal["behaviour_rules"] = [
                rule for rule in proposal["behaviour_rules"] if rule["name"] != "Demo request"
            ]

        run("apply", proposal_with(drop_demo), UserFactory())

    assert ledger(lead) == [("E-mail link clicked", 5, MONDAY)]
    lead.refresh_from_db()
    assert (lead.score.behaviour_score, lead.rank) == (5.0, "B4")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["profile"].update(grade_b_min=80), "profile.grade_b_min"),
        (lambda p: p["profile"].update(warm_ranks=["A1", "B2"]), "profile.warm_ranks"),
        (lambda p: p["profile"].update(hot_ranks=["E1"]), "profile.hot_ranks"),
        (lambda p: p["profile"].update(mql_grades="AX"), "profile.mql_grades"),
        (lambda p: p["profile"].update(half_life_days=0), "profile.half_life_days"),
        (lambda p: p["grade_rules"][7].update(value="lots"), "grade_rules.7.value"),
        (lambda p: p["grade_rules"][0].update(operator="gte"), "grade_rules.0.operator"),
        (lambda p: p["behaviour_rules"][1].update(cap_points=10), "behaviour_rules.1.cap_days"),
        (lambda p: p["behaviour_rules"][0].update(points=500), "behaviour_rules.0.points"),
        (
            lambda p: p["behaviour_rules"][0].update(event_kind="dance"),
            "behaviour_rules.0.event_kind",
        ),
        (lambda p: p["behaviour_rules"][0].update(id=99999), "behaviour_rules.0.id"),
    ],
)
def test_it_names_the_field_of_a_bad_proposal_and_queues_nothing(change, field):
    with pytest.raises(ValidationError) as error:
        rescorings.rescoring_start(kind="preview", proposal=proposal_with(change), by_user=None)

    assert field in error.value.message_dict
    assert Rescoring.objects.count() == 0
    assert services.active_profile().version == 1


def test_it_moves_many_leads_at_once_and_tells_listeners_of_each(
    django_capture_on_commit_callbacks,
):
    unqualified, recycled = LeadFactory(), LeadFactory(stage="nurture")
    won = LeadFactory(stage="customer")
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["lead_id"], kwargs["from_stage"], kwargs["to_stage"]))

    lead_signals.lead_stage_changed.connect(listener, dispatch_uid="test.bulk")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            moved = lead_services.leads_transition_by_rule(
                leads=Lead.objects.all(), to_stage="mql", by_rule="test:rule"
            )
    finally:
        lead_signals.lead_stage_changed.disconnect(dispatch_uid="test.bulk")

    assert moved == 2
    assert sorted(heard) == sorted(
        [(unqualified.pk, "unqualified", "mql"), (recycled.pk, "nurture", "mql")]
    )
    assert Lead.objects.get(pk=won.pk).stage == "customer"
    assert StageTransition.objects.filter(by_rule="test:rule").count() == 2


@time_machine.travel(MONDAY, tick=False)
def test_it_promotes_a_lead_whose_edit_makes_it_qualify():
    lead = lead_with_fit("US")  # 45: C
    happen(lead, "demo_request")
    happen(lead, "webinar_attended")  # 60, but a C
    assert Lead.objects.get(pk=lead.pk).stage == "unqualified"

    lead_services.lead_update(lead_id=lead.pk, by_user=None, country="AT")  # +10: B
    services.lead_rescore_fit(lead_id=lead.pk)

    lead.refresh_from_db()
    assert (lead.grade, lead.rank, lead.stage) == ("B", "B2", "mql")


def test_it_reports_progress_per_range_of_leads(monkeypatch):
    LeadFactory.create_batch(5)
    monkeypatch.setattr(rescorings, "CHUNK_SIZE", 2)
    steps = []
    monkeypatch.setattr(rescorings, "_report_progress", lambda r, done, total: steps.append(done))
    rescoring = run("apply", proposals.snapshot(services.active_profile()), UserFactory())

    assert (rescoring.status, rescoring.result["leads"]) == (Rescoring.Status.DONE, 5)
    assert steps == [1, 2, 3]  # three ranges of two ids, each counted once done
    assert rescorings.rescoring_progress(rescoring=rescoring) == (1, 1)
    steps.clear()
    run("preview", proposals.snapshot(services.active_profile()), UserFactory())
    assert steps == [1, 2, 3]  # the preview counts as the save does


def test_it_saves_each_version_with_who_and_what():
    admin = UserFactory(username="grace")
    run("apply", proposal_with(lambda p: p["profile"].update(name="Spring")), admin)
    run("apply", proposal_with(lambda p: p["grade_rules"].pop()), admin)

    profile = ScoringProfile.objects.get(is_active=True)
    versions = list(profile.versions.values_list("version", "saved_by__username"))
    # Version 1, the starter profile of the migration, is recorded by the first save.
    assert (profile.version, profile.name, versions) == (
        3,
        "Spring",
        [(3, "grace"), (2, "grace"), (1, None)],
    )
    assert len(profile.versions.get(version=3).snapshot["grade_rules"]) == 8
    starter = profile.versions.get(version=1).snapshot
    assert (starter["profile"]["name"], len(starter["grade_rules"])) == ("Default", 9)


@pytest.mark.django_db(transaction=True)
def test_it_promotes_once_when_a_rescoring_and_events_meet_one_lead():
    if connection.vendor != "postgresql":
        pytest.fail("Concurrency is proven on PostgreSQL: run with `make test`.")
    lead = lead_with_fit("DE")  # 55: B
    happen(lead, "demo_request", timezone.now())  # 40
    events = [event_services.event_record(lead=lead, kind="webinar_attended") for _ in range(3)]

    def work(index: int):
        if index == 0:
            return rescorings.rescore_all()
        return services.event_score(event_id=events[index - 1].pk)

    results = run_in_threads(4, work)

    assert not [result for result in results if isinstance(result, Exception)]
    assert StageTransition.objects.filter(lead=lead, to_stage="mql").count() == 1
    lead.refresh_from_db()
    # 40 + 3 * 20, to two decimal places (the events happened a moment ago)
    assert (lead.stage, round(lead.score.behaviour_score, 2)) == ("mql", 100.0)


@pytest.mark.django_db(transaction=True)
def test_a_save_rescores_two_ranges_at_once_each_in_its_own_connection(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("Ranges run in parallel on PostgreSQL: run with `make test`.")
    settings.LEADCRM_RESCORE_CONNECTIONS = 2
    with time_machine.travel(MONDAY, tick=False):
        leads = [lead_with_fit("DE") for _ in range(6)]  # 55 fit points: B
        for index, lead in enumerate(leads):
            happen(lead, "demo_request" if index % 2 == 0 else "email_click")  # 40 or 5
    monkeypatch.setattr(rescorings, "CHUNK_SIZE", 2)  # three ranges of two leads
    threads: set[str] = set()
    rescore_range = rescorings._rescore_range

    def recording(**arguments):
        threads.add(threading.current_thread().name)
        return rescore_range(**arguments)

    monkeypatch.setattr(rescorings, "_rescore_range", recording)
    admin = UserFactory()

    def demos_worth_more(proposal):
        behaviour_rule(proposal, "Demo request")["points"] = 100

    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        rescoring = run("apply", proposal_with(demos_worth_more), admin)

    assert rescoring.status == Rescoring.Status.DONE
    assert len(threads) == 2
    assert all(name.startswith("rescore") for name in threads)
    # Each demo now gives 100 points, 30 days old: 50, grade B and 50 or more: MQL. The clicks'
    # leads keep 5 and stay unqualified.
    scores = dict(Lead.objects.values_list("id", "score__behaviour_score"))
    stages = dict(Lead.objects.values_list("id", "stage"))
    for index, lead in enumerate(leads):
        demo = index % 2 == 0
        assert scores[lead.pk] == (50.0 if demo else 5.0)
        assert stages[lead.pk] == ("mql" if demo else "unqualified")
    assert (rescoring.result["leads"], rescoring.result["become_mql"]) == (6, 3)


@pytest.mark.django_db(transaction=True)
def test_a_range_that_fails_fails_the_save_in_parallel_too(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("Ranges run in parallel on PostgreSQL: run with `make test`.")
    settings.LEADCRM_RESCORE_CONNECTIONS = 2
    lead_with_fit("DE")
    second = lead_with_fit("DE")
    monkeypatch.setattr(rescorings, "CHUNK_SIZE", 1)
    rescore_range = rescorings._rescore_range

    def failing_on_the_second(*, lead_range, **arguments):
        if lead_range[0] == second.pk:
            raise RuntimeError("disk full")
        return rescore_range(lead_range=lead_range, **arguments)

    monkeypatch.setattr(rescorings, "_rescore_range", failing_on_the_second)

    with pytest.raises(RuntimeError, match="disk full"):
        run("apply", proposal_with(lambda p: p["profile"].update(grade_b_min=45)), UserFactory())

    rescoring = Rescoring.objects.get()
    assert (rescoring.status, rescoring.error) == (Rescoring.Status.FAILED, "disk full")


@pytest.mark.django_db(transaction=True)
def test_a_range_is_rescored_without_jit_compilation(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("JIT is PostgreSQL's: run with `make test`.")
    LeadFactory()

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    seen = []
    refresh = rescorings.ledger.refresh_behaviour_scores

    def recording(**arguments):
        seen.append(jit())
        return refresh(**arguments)

    monkeypatch.setattr(rescorings.ledger, "refresh_behaviour_scores", recording)
    before = jit()
    assert before == "on"  # PostgreSQL's default, as production runs it

    rescorings.rescore_all()

    # Off inside the range's transaction only (SET LOCAL): the connection keeps its own.
    assert seen == ["off"]
    assert jit() == before


def test_it_leaves_daily_decay_of_untouched_leads_to_the_nightly_job():
    with time_machine.travel(MONDAY, tick=False):
        demo = lead_with_fit("DE")
        happen(demo, "demo_request")  # 40
        clicker = lead_with_fit("DE")
        happen(clicker, "email_click")  # 5
    admin = UserFactory()

    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        run("apply", proposal_with(lambda p: p["profile"].update(grade_b_min=45)), admin)
        after_grade_change = dict(Lead.objects.values_list("id", "score__behaviour_score"))

        def clicks_worth_more(proposal):
            behaviour_rule(proposal, "E-mail link clicked")["points"] = 6

        run("apply", proposal_with(clicks_worth_more), admin)
        after_click_change = dict(Lead.objects.values_list("id", "score__behaviour_score"))
        run("apply", proposal_with(lambda p: p["profile"].update(half_life_days=15)), admin)
        after_half_life_change = dict(Lead.objects.values_list("id", "score__behaviour_score"))

    # A grade change writes no score; a changed behaviour rule rescores its leads as of now
    # (6 points, 30 days old: 3.0); a new half-life decays everyone (40 * 0.5^(30/15) = 10).
    assert after_grade_change == {demo.pk: 40.0, clicker.pk: 5.0}
    assert after_click_change == {demo.pk: 40.0, clicker.pk: 3.0}
    assert after_half_life_change == {demo.pk: 10.0, clicker.pk: 1.5}


def test_it_rescores_only_the_leads_whose_ledger_a_rule_change_changes():
    with time_machine.travel(MONDAY, tick=False):
        busy = lead_with_fit("DE")
        for _click in range(4):  # +5 each, at most 15 a week: 5, 5, 5 and nothing
            happen(busy, "email_click")
        quiet = lead_with_fit("DE")
        happen(quiet, "email_click")
    admin = UserFactory()

    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):

        def higher_cap(proposal):
            behaviour_rule(proposal, "E-mail link clicked")["cap_points"] = 20

        rescoring = run("apply", proposal_with(higher_cap), admin)

    # The fourth click now counts: 4 * 5 points, 30 days old, 20 * 0.5 = 10. The quiet lead's
    # single click gives what it gave before, so its row is not rewritten and its score keeps
    # waiting for the nightly decay (5, not 2.5).
    assert rescoring.status == Rescoring.Status.DONE
    assert [points for _name, points, _at in ledger(busy)] == [5, 5, 5, 5]
    assert dict(Lead.objects.values_list("id", "score__behaviour_score")) == {
        busy.pk: 10.0,
        quiet.pk: 5.0,
    }


def test_it_gives_an_uncapped_rules_rows_new_points_in_place_and_moves_only_their_leads():
    with time_machine.travel(MONDAY, tick=False):
        webinars = lead_with_fit("DE")
        happen(webinars, "webinar_attended")  # 20
        happen(webinars, "webinar_attended", at=MONDAY + timedelta(days=10))  # 20, 20 days later
        demo = lead_with_fit("DE")
        happen(demo, "demo_request")  # 40
    entry_ids = set(ScoreEntry.objects.filter(lead=webinars).values_list("id", flat=True))
    admin = UserFactory()

    def webinars_worth_more(proposal):
        behaviour_rule(proposal, "Webinar attended")["points"] = 30

    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        preview = run("preview", proposal_with(webinars_worth_more), admin)
        rescoring = run("apply", proposal_with(webinars_worth_more), admin)

    # The same two rows (not derived again), now 30 points each. On day 30: 30 * 0.5^(30/30)
    # + 30 * 0.5^(20/30) = 15 + 18.898 = 33.90. The demo lead's rule did not change: its score
    # is left to the nightly decay (40, not 20).
    assert rescoring.status == Rescoring.Status.DONE
    assert set(ScoreEntry.objects.filter(lead=webinars).values_list("id", flat=True)) == entry_ids
    assert [points for _name, points, _at in ledger(webinars)] == [30, 30]
    scores = dict(Lead.objects.values_list("id", "score__behaviour_score"))
    assert round(scores[webinars.pk], 2) == 33.90
    assert scores[demo.pk] == 40.0
    # The preview, which derives the rows instead, announced the same.
    assert preview.result["rank_changed"] == rescoring.result["rank_changed"]

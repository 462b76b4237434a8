"""A saved grade-rule or threshold change rescores only the leads it can move: the others' rows
are not even rewritten (their tuple's ctid and xmin stay)."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from leads import event_services
from leads.models import Lead
from scoring import proposals, services, tasks
from scoring import rescoring as rescorings
from scoring.models import Rescoring
from tests.factories import CompanyFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def lead(seniority: str, title: str, country: str, *, software: bool = False, **fields) -> Lead:
    """Starter rules: c_level/vp 30, director 20, manager 10, a title with "CEO" … 15, DE/AT/CH
    10, industry software 20 (a company of 1-10 people, revenue unknown: nothing more)."""
    company = (
        CompanyFactory(industry="software", size_band="1-10", annual_revenue=None)
        if software
        else None
    )
    created = LeadFactory(
        seniority=seniority, job_title=title, country=country, company=company, **fields
    )
    services.lead_rescore_fit(lead_id=created.pk)
    return created


def row_versions() -> dict[int, tuple[str, str]]:
    """Each lead's row version in leads_lead and leads_leadscore: an UPDATE writes a new tuple
    (another ctid, this transaction's xmin), even one that changes nothing."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT l.id, l.ctid::text || '/' || l.xmin::text, s.ctid::text || '/' || s.xmin::text
               FROM leads_lead l JOIN leads_leadscore s ON s.lead_id = l.id"""
        )
        return {lead_id: (lead_row, score_row) for lead_id, lead_row, score_row in cursor}


def scores() -> dict[int, tuple[int, str, str]]:
    return {
        pk: (fit, grade, rank)
        for pk, fit, grade, rank in Lead.objects.values_list(
            "pk", "score__fit_points", "grade", "rank"
        )
    }


def grade_rule(proposal: dict, field: str, value: str) -> dict:
    return next(
        rule
        for rule in proposal["grade_rules"]
        if rule["field"] == field and rule["value"] == value
    )


def save(change) -> Rescoring:
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    rescoring = rescorings.rescoring_start(kind="apply", proposal=proposal, by_user=UserFactory())
    rescorings.rescoring_run(rescoring_id=rescoring.pk)
    rescoring.refresh_from_db()
    assert rescoring.status == Rescoring.Status.DONE, rescoring.error
    return rescoring


def preview(change) -> Rescoring:
    proposal = proposals.snapshot(services.active_profile())
    change(proposal)
    rescoring = rescorings.rescoring_start(kind="preview", proposal=proposal, by_user=UserFactory())
    rescorings.rescoring_run(rescoring_id=rescoring.pk)
    rescoring.refresh_from_db()
    return rescoring


def counts(rescoring: Rescoring) -> dict:
    return {key: value for key, value in rescoring.result.items() if key != "samples"}


@time_machine.travel(MONDAY, tick=False)
def test_it_moves_only_the_leads_a_changed_rule_matches(monkeypatch):
    director = lead("director", "Sales", "DE")  # 20 + 10 = 30: C
    director_b = lead("director", "Head of Sales", "DE")  # 20 + 15 + 10 = 45: C
    vp = lead("vp", "Sales", "US")  # 30: C
    manager = lead("manager", "CEO", "DE")  # 10 + 15 + 10 = 35: C
    # A B with 60 that sales sent back to nurture: the change does not touch its fit or score,
    # but the MQL rule still runs over every lead (as the nightly job does): promoted.
    recycled = lead("vp", "CEO", "DE")  # 55: B
    lead_services_event(recycled, "demo_request")
    lead_services_event(recycled, "webinar_attended")  # 60: an MQL
    Lead.objects.filter(pk=recycled.pk).update(stage="nurture")
    before = row_versions()
    passes = []
    outcome = rescorings._outcome

    def counting_outcome(profile, *, samples):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {rescorings.PASS_TABLE} ORDER BY id")
            passes.append([row[0] for row in cursor.fetchall()])
        return outcome(profile, samples=samples)

    monkeypatch.setattr(rescorings, "_outcome", counting_outcome)

    def director_worth_more(proposal):  # 20 → 25: +5 for directors, and nobody else
        grade_rule(proposal, "seniority", "director")["points"] = 25

    shown = preview(director_worth_more)
    passes.clear()
    with CaptureQueriesContext(connection) as queries:
        rescoring = save(director_worth_more)

    # Only the directors were classified again, and no other rule was evaluated.
    assert passes == [[director.pk, director_b.pk]]
    sql = " ".join(q["sql"] for q in queries.captured_queries if '"leads_lead"' in q["sql"])
    assert "director" in sql
    assert not [value for value in ("it_services", "Werkstudent", "c_level") if value in sql]
    assert Lead.objects.get(pk=recycled.pk).stage == "mql"

    assert scores() == {
        director.pk: (35, "C", "C4"),
        director_b.pk: (50, "B", "B4"),
        vp.pk: (30, "C", "C4"),
        manager.pk: (35, "C", "C4"),
        recycled.pk: (55, "B", "B2"),
    }
    after = row_versions()
    # The directors' scores rewritten; of their lead rows only the one whose grade moved.
    assert after[director.pk][1] != before[director.pk][1]
    assert after[director.pk][0] == before[director.pk][0]
    assert after[director_b.pk] != before[director_b.pk]
    assert after[vp.pk] == before[vp.pk]
    assert after[manager.pk] == before[manager.pk]
    assert after[recycled.pk][1] == before[recycled.pk][1]
    assert counts(rescoring) == {
        "leads": 5,
        "grade_changed": 1,
        "rank_changed": 1,
        "temperature_changed": 0,
        "become_mql": 1,
        "flagged": 0,
        "grade_moves": {"C→B": 1},
    }
    assert counts(shown) == counts(rescoring)


@pytest.mark.parametrize(
    ("grade_b_min", "moved"),
    [
        # B from 42: the 45 climbs; 40 stays C, 50 and 55 were B already.
        (42, {"45": ("B", "B4")}),
        # B from 55: the 50 drops to C; 55 is still B, 40 and 45 C.
        (55, {"50": ("C", "C4")}),
    ],
)
def test_it_moves_exactly_the_leads_between_the_old_and_the_new_threshold(grade_b_min, moved):
    leads = {
        "40": lead("vp", "Sales", "DE"),  # 30 + 10
        "45": lead("vp", "CEO", "US"),  # 30 + 15
        "50": lead("vp", "Sales", "US", software=True),  # 30 + 20
        "55": lead("vp", "CEO", "DE"),  # 30 + 15 + 10
    }
    before = row_versions()
    grades_before = {name: (lead.grade, lead.rank) for name, lead in _fresh(leads).items()}
    assert grades_before == {
        "40": ("C", "C4"),
        "45": ("C", "C4"),
        "50": ("B", "B4"),
        "55": ("B", "B4"),
    }

    rescoring = save(lambda p: p["profile"].update(grade_b_min=grade_b_min))

    after = row_versions()
    expected = {**grades_before, **moved}
    assert {name: (lead.grade, lead.rank) for name, lead in _fresh(leads).items()} == expected
    rewritten = {name for name, lead in leads.items() if after[lead.pk] != before[lead.pk]}
    assert rewritten == set(moved)
    assert rescoring.result["grade_changed"] == 1


def _fresh(leads: dict[str, Lead]) -> dict[str, Lead]:
    return {name: Lead.objects.get(pk=lead.pk) for name, lead in leads.items()}


def test_it_subtracts_a_removed_rules_points():
    german = lead("vp", "CEO", "DE")  # 30 + 15 + 10 = 55: B
    american = lead("vp", "CEO", "US")  # 45: C
    before = row_versions()

    def without_dach(proposal):
        proposal["grade_rules"] = [
            rule for rule in proposal["grade_rules"] if rule["field"] != "country"
        ]

    rescoring = save(without_dach)

    assert scores() == {german.pk: (45, "C", "C4"), american.pk: (45, "C", "C4")}
    assert row_versions()[american.pk] == before[american.pk]
    assert rescoring.result["grade_moves"] == {"B→C": 1}


def test_it_moves_leads_in_and_out_of_a_rule_whose_condition_changes():
    german = lead("vp", "CEO", "DE")  # 55: B, matched before only
    french = lead("vp", "CEO", "FR")  # 45: C, matched after only
    austrian = lead("vp", "CEO", "AT")  # 55: B, matched before and after: -10 + 10
    american = lead("vp", "CEO", "US")  # 45: C, matched by neither
    before = row_versions()

    def west_instead_of_germany(proposal):
        grade_rule(proposal, "country", "DE, AT, CH")["value"] = "AT, CH, FR"

    shown = preview(west_instead_of_germany)
    rescoring = save(west_instead_of_germany)

    assert scores() == {
        german.pk: (45, "C", "C4"),
        french.pk: (55, "B", "B4"),
        austrian.pk: (55, "B", "B4"),
        american.pk: (45, "C", "C4"),
    }
    after = row_versions()
    assert after[austrian.pk] == before[austrian.pk]
    assert after[american.pk] == before[american.pk]
    expected = {
        "leads": 4,
        "grade_changed": 2,
        "rank_changed": 2,
        "temperature_changed": 0,
        "become_mql": 0,
        "flagged": 0,
        "grade_moves": {"B→C": 1, "C→B": 1},
    }
    assert counts(shown) == expected
    assert counts(rescoring) == expected


@time_machine.travel(MONDAY, tick=False)
def test_it_promotes_and_flags_the_leads_a_new_mql_condition_moves_and_previews_the_same():
    climber = lead("vp", "CEO", "US")  # 45: C
    lead_services_event(climber, "demo_request")  # 40
    mql = lead("vp", "CEO", "DE", stage="mql")  # 55: B, an MQL
    lead_services_event(mql, "demo_request")  # 40, below 50: not flagged until a rescoring
    bystander = lead("vp", "CEO", "DE", stage="nurture")  # 55: B, score 0
    before = row_versions()

    def mql_from_c_and_40(proposal):
        proposal["profile"].update(mql_grades="ABC", mql_min_score=40)

    shown = preview(mql_from_c_and_40)
    rescoring = save(mql_from_c_and_40)

    # C with 40 now qualifies: the climber becomes an MQL, the MQL with 40 still qualifies (no
    # flag); the bystander (B, score 0) is neither a C nor between 40 and 50: its rows stay.
    stages = dict(Lead.objects.values_list("pk", "stage"))
    assert stages == {climber.pk: "mql", mql.pk: "mql", bystander.pk: "nurture"}
    assert row_versions()[bystander.pk] == before[bystander.pk]
    assert counts(shown) == counts(rescoring)
    assert (rescoring.result["become_mql"], rescoring.result["flagged"]) == (1, 0)


def lead_services_event(target: Lead, kind: str) -> None:
    event = event_services.event_record(lead=target, kind=kind, occurred_at=MONDAY)
    services.event_score(event_id=event.pk)


def test_it_grades_no_lead_from_every_rule_while_a_save_moves_fit_points():
    if connection.vendor != "postgresql":
        pytest.fail("The lock is PostgreSQL's: run with `make test`.")
    new = LeadFactory(seniority="director", job_title="Sales", country="US", company=None)
    saving = connections.create_connection("default")  # another session: a running save
    try:
        with saving.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [services.FIT_LOCK])
        with pytest.raises(services.FitRulesChanging):
            services.lead_rescore_fit(lead_id=new.pk)
        with saving.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [services.FIT_LOCK])
    finally:
        saving.close()

    services.lead_rescore_fit(lead_id=new.pk)  # once the save is done
    assert Lead.objects.get(pk=new.pk).score.fit_points == 20


@time_machine.travel(MONDAY, tick=False)
def test_it_moves_fit_by_differences_also_when_most_leads_changed_score():
    director = lead("director", "Head of Sales", "DE")  # 45: C
    vp = lead("vp", "Sales", "US")  # 30: C
    manager = lead("manager", "Sales", "US")  # 10: D
    for target in (director, vp, manager):
        lead_services_event(target, "demo_request")  # 40 each: band 3

    def director_and_demo(proposal):
        grade_rule(proposal, "seniority", "director")["points"] = 25
        next(r for r in proposal["behaviour_rules"] if r["name"] == "Demo request")["points"] = 60

    shown = preview(director_and_demo)
    rescoring = save(director_and_demo)

    # Every lead's score moved (60: band 2), so every lead of the range is classified again;
    # only the director's fit moves (+5: 50, a B).
    assert scores() == {
        director.pk: (50, "B", "B2"),
        vp.pk: (30, "C", "C2"),
        manager.pk: (10, "D", "D2"),
    }
    assert counts(shown) == counts(rescoring)
    assert (rescoring.result["rank_changed"], rescoring.result["become_mql"]) == (3, 1)


def test_a_lead_edited_during_a_save_is_graded_once_the_save_is_done(monkeypatch):
    new = LeadFactory(seniority="director", job_title="Sales", country="US", company=None)
    # The save holds the lock for the task's first two tries, then finishes.
    answers = iter([False, False, True])
    tries = []

    def settled() -> bool:
        tries.append(True)
        return next(answers)

    monkeypatch.setattr(services, "_fit_rules_settled", settled)

    result = tasks.lead_rescore_fit.apply(args=[new.pk])

    assert result.successful()
    assert len(tries) == 3
    assert Lead.objects.get(pk=new.pk).score.fit_points == 20  # director

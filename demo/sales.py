"""Sales work in the demo: qualifications behind every accepted lead (and some in progress), the
reasons behind sales' rejections of MQLs, and open tasks around today for the demo reps, so "My
tasks", the qualification card and "Rejected MQLs" have something to show."""

import random
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from leads.lifecycle import Stage
from leads.models import Activity, Lead, Opportunity, PipelineStage, StageTransition
from sales import assignment, sla, teams
from sales.models import (
    BANT_FIELDS,
    MEDDIC_FIELDS,
    AssignmentRule,
    Qualification,
    Rejection,
    RejectionReason,
    Team,
)
from sales.selectors import local_day_bounds

# The demo's rejection texts (demo.content.REASONS) and the managed reason each one is.
REASON_CODES = {
    "No budget this year": "no-budget",
    "Kein Budget in diesem Jahr": "no-budget",
    "Timing: revisit next quarter": "bad-timing",
    "Im nächsten Quartal wieder melden": "bad-timing",
    "Not the decision maker": "no-authority",
    "Kein Entscheider": "no-authority",
    "Student / private person": "student-job-seeker",
    "Student / Privatperson": "student-job-seeker",
    "Competitor": "competitor-chosen",
    "Wettbewerber": "competitor-chosen",
    "Invalid contact": "not-reachable",
    "Kontaktdaten ungültig": "not-reachable",
}

CRITERIA_TEXT: dict[str, dict[str, list[str]]] = {
    "en": {
        "budget": ["€40k approved for this year", "Budget in the Q3 plan", "€25k from marketing"],
        "authority": ["Head of sales decides with the CFO", "Managing director signs"],
        "need": [
            "Leads get lost between marketing and sales",
            "Replace spreadsheets and an old CRM",
        ],
        "timing": ["Go-live before the autumn trade fair", "Decision this quarter"],
        "metrics": ["Double the MQL-to-SQL rate", "Save 10 hours a week of list work"],
        "economic_buyer": ["CFO", "Managing director"],
        "decision_criteria": ["Price per user, API, German hosting"],
        "decision_process": ["Demo, trial with two reps, board approval"],
        "identified_pain": ["Reps call cold leads while hot ones wait"],
        "champion": ["Marketing lead who booked the demo"],
    },
    "de": {
        "budget": [
            "40 T€ für dieses Jahr freigegeben",
            "Budget im Q3-Plan",
            "25 T€ aus dem Marketing",
        ],
        "authority": ["Vertriebsleitung entscheidet mit dem CFO", "Geschäftsführung unterschreibt"],
        "need": [
            "Leads gehen zwischen Marketing und Vertrieb verloren",
            "Excel und Alt-CRM ablösen",
        ],
        "timing": ["Start vor der Herbstmesse", "Entscheidung in diesem Quartal"],
        "metrics": ["MQL-zu-SQL-Quote verdoppeln", "10 Stunden Listenarbeit pro Woche sparen"],
        "economic_buyer": ["CFO", "Geschäftsführung"],
        "decision_criteria": ["Preis pro Nutzer, API, Hosting in Deutschland"],
        "decision_process": ["Demo, Test mit zwei Vertriebsmitarbeitern, Freigabe der GF"],
        "identified_pain": ["Vertrieb ruft kalte Leads an, während heiße warten"],
        "champion": ["Marketingleitung, die die Demo gebucht hat"],
    },
}

# (subject, note): every note is a sentence in the lead's language, as in demo.content.
TASKS = {
    "en": [
        ("Call back about the budget", "Ask whether the budget for the rollout is approved."),
        ("Send the proposal", "Send the proposal with the prices for the sales team."),
        ("Book the demo", "Find a date for the demo with the head of sales."),
        ("Check in after the trial", "Ask how the trial went and what is missing."),
    ],
    "de": [
        ("Wegen Budget zurückrufen", "Fragen, ob das Budget für die Einführung freigegeben ist."),
        ("Angebot senden", "Das Angebot mit den Preisen für den Vertrieb senden."),
        ("Demo vereinbaren", "Einen Termin für die Demo mit der Vertriebsleitung finden."),
        ("Nach Testphase melden", "Nachfragen, wie die Testphase lief und was fehlt."),
    ],
}
# When each rep's open demo tasks are due: hours from now, or (for "later today") a share of
# what is left of today, so the demo shows two overdue, two for today and four ahead.
OPEN_TASK_OFFSETS = [("hours", -30), ("hours", -3), ("today", 0.4), ("today", 0.8)] + [
    ("hours", hours) for hours in (26, 50, 75, 170)
]


def _due(now: datetime, due: tuple[str, float]) -> datetime:
    kind, amount = due
    if kind == "today":
        _start, tomorrow = local_day_bounds(now)
        return now + (tomorrow - now) * amount
    return now + timedelta(hours=amount)


def _texts(lead: Lead) -> dict[str, list[str]]:
    return CRITERIA_TEXT["de" if lead.language == "de" else "en"]


def _qualification(lead: Lead, rng: random.Random, *, bant: int, meddic: int, at: datetime):
    texts = _texts(lead)
    row = Qualification(lead=lead, updated_by=lead.owner, updated_at=at)
    for names, confirmed in ((BANT_FIELDS, bant), (MEDDIC_FIELDS, meddic)):
        for index, name in enumerate(rng.sample(names, len(names))):
            if index < confirmed or rng.random() < 0.3:
                setattr(row, name, rng.choice(texts[name]))
                setattr(row, f"{name}_confirmed", index < confirmed)
    return row


def load_sales(
    *, leads: list[Lead], transitions: list[StageTransition], reps: list[Any], seed: int
) -> dict[str, int]:
    rng = random.Random(seed)
    now = timezone.now()
    accepted_at = {
        t.lead_id: t.at
        for t in transitions
        if t.from_stage == Stage.MQL and t.to_stage == Stage.SQL
    }
    qualifications = []
    for lead in leads:
        if lead.pk in accepted_at:
            bant, meddic = rng.choice([3, 3, 4]), rng.randint(0, 6)
            qualifications.append(
                _qualification(lead, rng, bant=bant, meddic=meddic, at=accepted_at[lead.pk])
            )
        elif lead.stage == Stage.MQL and lead.owner_id and rng.random() < 0.5:
            qualifications.append(
                _qualification(
                    lead, rng, bant=rng.randint(0, 2), meddic=0, at=lead.stage_changed_at
                )
            )
    Qualification.objects.bulk_create(qualifications, batch_size=1000)

    reasons = {reason.code: reason for reason in RejectionReason.objects.all()}
    lead_by_id = {lead.pk: lead for lead in leads}
    rejections = []
    for transition in transitions:
        if (
            transition.from_stage != Stage.MQL
            or transition.to_stage not in Rejection.ToStage.values
        ):
            continue
        code = REASON_CODES.get(transition.reason, "other")
        lead = lead_by_id[transition.lead_id]
        rejections.append(
            Rejection(
                lead=lead,
                reason=reasons[code],
                note=transition.reason if code == "other" else "",
                to_stage=transition.to_stage,
                campaign_id=lead.first_campaign_id,
                transition=transition,
                by_user_id=transition.by_user_id,
                at=transition.at,
            )
        )
    Rejection.objects.bulk_create(rejections, batch_size=1000)

    tasks = []
    for rep in reps:
        worked = [
            lead
            for lead in leads
            if lead.owner_id == rep.pk and lead.stage in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)
        ]
        # A lead may get more than one task when a rep works few leads (a small demo).
        picked = (
            rng.sample(worked, len(OPEN_TASK_OFFSETS))
            if len(worked) >= 8
            else (rng.choices(worked, k=len(OPEN_TASK_OFFSETS)) if worked else [])
        )
        for offset, lead in zip(OPEN_TASK_OFFSETS, picked, strict=False):
            subject, note = rng.choice(TASKS["de" if lead.language == "de" else "en"])
            tasks.append(
                Activity(
                    lead=lead,
                    kind=Activity.Kind.TASK,
                    subject=subject,
                    body=note,
                    due_at=_due(now, offset),
                    assignee=rep,
                    author=rep,
                    created_at=now - timedelta(days=2),
                )
            )
    Activity.objects.bulk_create(tasks)
    # The history's tasks were done by the time they were due: the backlog a rep sees is the
    # one around today, not years of demo history.
    Activity.objects.filter(
        kind=Activity.Kind.TASK, done_at__isnull=True, due_at__lt=now - timedelta(days=2)
    ).update(done_at=F("due_at"))
    return {
        "qualifications": len(qualifications),
        "rejections": len(rejections),
        "open demo tasks": len(tasks),
    }


def place_opportunities() -> None:
    """Open demo opportunities on the pipeline step their probability fits; won ones with their
    margin as the real one."""
    stages = list(PipelineStage.objects.filter(active=True))
    if stages:
        bounds = [stage.probability for stage in stages[1:]]
        open_ = Opportunity.objects.filter(status=Opportunity.Status.OPEN)
        for index, stage in enumerate(stages):
            fits = open_
            if index > 0:
                fits = fits.filter(
                    probability__gte=(stages[index - 1].probability + stage.probability) / 2
                )
            if index < len(bounds):
                fits = fits.filter(probability__lt=(stage.probability + bounds[index]) / 2)
            fits.update(pipeline_stage=stage)
    Opportunity.objects.filter(status=Opportunity.Status.WON, gross_margin__isnull=True).update(
        gross_margin=F("expected_margin")
    )


def load_assignment(*, manager: Any, reps: list[Any], away_rep: Any) -> dict[str, int]:
    """Two teams with rules (DACH by country; everyone else), the manager over both, a third rep
    away until next week; then the product's own assignment gives the unassigned MQLs out, each
    at the time it became an MQL, so the older ones are past their SLA and the queue shows them
    overdue (beat escalates them to the manager once ``make run`` is up). The generator's owners
    of open MQLs give way to the rules' picks."""
    existing = dict(Team.objects.values_list("name", "pk"))
    dach = teams.team_save(team_id=existing.get("DACH"), name="DACH", managers=[manager])
    international = teams.team_save(
        team_id=existing.get("International"),
        name="International",
        managers=[manager],
        sla_hours=16,
    )
    if not AssignmentRule.objects.exists():
        teams.assignment_rule_save(
            name="DACH (Germany, Austria, Switzerland)",
            team=dach,
            position=10,
            countries=["DE", "AT", "CH"],
        )
        teams.assignment_rule_save(name="Everyone else", team=international, position=100)
    first, second = reps
    teams.rep_profile_update(user=first, by_user=manager, team=dach, capacity=120)
    teams.rep_profile_update(user=second, by_user=manager, team=international)
    teams.rep_profile_update(
        user=away_rep,
        by_user=manager,
        team=international,
        away=True,
        away_until=timezone.now() + timedelta(days=7),
    )
    # Every open MQL comes to its rep through the rules, at the time it became an MQL.
    Lead.objects.filter(stage=Stage.MQL, assignments__isnull=True).update(owner=None)
    made = 0
    waiting = Lead.objects.filter(stage=Stage.MQL, owner__isnull=True).order_by(
        "stage_changed_at", "id"
    )
    for lead_id, became_mql in waiting.values_list("id", "stage_changed_at"):
        made += len(assignment.leads_assign(lead_ids=[lead_id], now=became_mql))
    overdue = sla.overdue_assignments(timezone.now()).count()
    return {"MQLs assigned by rule": made, "  overdue": overdue}

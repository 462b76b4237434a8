"""Load the demo business: users for each role, campaigns with costs, companies and leads in every
stage with their stage history, events, activities, consents and opportunities.

The rows come from ``demo.generator`` (shared with ``bench.generate``); this command only writes
them with the ORM, in one transaction. Reproducible (``--seed``) and idempotent: a second run only
makes sure the demo users exist.
"""

from collections import Counter
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from demo.content import CAMPAIGNS, DEMO_TLD
from demo.forms import load_forms
from demo.generator import Generator
from demo.rules import MQL_RULE, Scoring
from demo.sales import load_assignment, load_sales, place_opportunities
from leadcrm.roles import Role
from leads.lifecycle import Stage
from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Lead,
    LeadScore,
    Opportunity,
    StageTransition,
)
from reporting.models import ExchangeRate
from reporting.rollup import rollup_refresh
from sales.assignment import assignments_backfill
from scoring.models import ScoreEntry
from scoring.rescoring import rescore_all
from scoring.services import active_profile

DEMO_PASSWORD = "demo-password"
DEMO_USERS: list[tuple[str, str, str, str]] = [
    # username, first name, last name, role
    ("marketer", "Mara", "Keller", Role.MARKETER),
    ("rep", "Rafael", "Brandt", Role.SALES_REP),
    ("rep2", "Rita", "Okafor", Role.SALES_REP),
    # In the International team, away this week: the assignment shows her skipped.
    ("rep3", "Jonas", "Vogel", Role.SALES_REP),
    ("manager", "Moritz", "Hahn", Role.SALES_MANAGER),
    ("admin", "Ada", "Winter", Role.ADMIN),
]
REPS = ["rep", "rep2"]
# Euros per unit, for the reports (reporting.models.ExchangeRate).
DEMO_RATES = {
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "CHF": Decimal("1.05"),
    "CAD": Decimal("0.68"),
}


def _budget(row) -> Decimal:
    """What marketing planned: the monthly cost over the campaign's months (a year for ongoing
    ones), 10 % more, so reports show some campaigns within budget and the trade fair over."""
    # Costs are booked every 30 days from the start (demo.generator.costs).
    months = 14 if row.ends_on is None else (row.ends_on - row.starts_on).days // 30 + 1
    planned = Decimal(row.monthly_cost * months) * Decimal("1.1")
    if row.channel == "trade_fair":
        planned = Decimal(row.monthly_cost) * Decimal("0.8")
    return planned.quantize(Decimal(1))


class Command(BaseCommand):
    help = "Load demo users and realistic demo data (once; a second run changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=3000, help="Number of leads (3000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (42).")

    def handle(self, *args: Any, leads: int, seed: int, **options: Any) -> None:
        with transaction.atomic():
            users = ensure_users()
            if Campaign.objects.filter(name=CAMPAIGNS[0].name).exists():
                self.stdout.write(_("Demo data already present; demo users checked."))
                return
            generator = Generator(seed=seed, reps=len(REPS), scoring=Scoring.load())
            counts = load(generator, users=users, lead_count=leads)
            counts |= score(generator)
            counts |= load_assignment(
                manager=users["manager"],
                reps=[users[name] for name in REPS],
                away_rep=users["rep3"],
            )
            # Demo leads owned from the start (SQLs, opportunities, customers) get their running
            # assignment, as the migration gives leads owned before assignments were recorded.
            counts["owners' assignments"] = assignments_backfill()
        if connection.vendor == "postgresql":
            # Planner statistics of the data just written (as bench.generate does): the first
            # reports and lists are planned on them, not on what the tables held before.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        counts["report rollup days"] = rollup_refresh(full=True).days
        for label, count in counts.items():
            self.stdout.write(f"{label:<22} {count:>8}")
        message = _("Demo data loaded; password: %(password)s") % {"password": DEMO_PASSWORD}
        self.stdout.write(self.style.SUCCESS(message))


def score(generator: Generator) -> dict[str, int]:
    """Let the scoring app score what the lead's events say, as it does in production: the
    ledger, decayed scores, ranks and temperatures, and the MQL rule."""
    profile = active_profile()
    outcome = rescore_all(profile=profile, rebuild=list(profile.behaviour_rules.all()))
    return {
        "score entries": ScoreEntry.objects.count(),
        "promoted to MQL now": outcome.become_mql,
        "MQLs to review": outcome.flagged,
    }


def ensure_users() -> dict[str, Any]:
    user_model = get_user_model()
    users: dict[str, Any] = {}
    for username, first_name, last_name, role in DEMO_USERS:
        is_admin = role == Role.ADMIN
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@leadcrm.{DEMO_TLD}",
                "is_staff": is_admin,
                "is_superuser": is_admin,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def load(generator: Generator, *, users: dict[str, Any], lead_count: int) -> dict[str, int]:
    reps = [users[name] for name in REPS]
    marketer = users["marketer"]
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            name=row.name,
            channel=row.channel,
            direction=row.direction,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            created_at=row.created_at,
            budget=_budget(row),
        )
        for row in generator.campaigns()
    )
    # Reports add margins won in other currencies to euros only by an explicit rate.
    known = set(ExchangeRate.objects.values_list("currency", flat=True))
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=currency, rate=rate)
        for currency, rate in DEMO_RATES.items()
        if currency not in known
    )
    costs = CampaignCost.objects.bulk_create(
        CampaignCost(
            campaign=campaigns[row.campaign],
            incurred_on=row.incurred_on,
            amount=row.amount,
            note=row.note,
        )
        for row in generator.costs()
    )
    companies = Company.objects.bulk_create(
        Company(
            name=row.name,
            domain=row.domain,
            industry=row.industry,
            size_band=row.size_band,
            annual_revenue=row.annual_revenue,
            revenue_currency=row.revenue_currency,
            created_at=row.created_at,
        )
        for row in generator.companies(max(10, lead_count // 10))
    )
    rows = list(generator.leads(lead_count))
    leads = Lead.objects.bulk_create(
        (
            Lead(
                email=row.email,
                email_key=row.email_key,
                first_name=row.first_name,
                last_name=row.last_name,
                phone=row.phone,
                job_title=row.job_title,
                seniority=row.seniority,
                country=row.country,
                city=row.city,
                language=row.language,
                company=None if row.company is None else companies[row.company],
                stage=row.stage,
                stage_changed_at=row.stage_changed_at,
                owner=None if row.owner is None else reps[row.owner],
                grade=row.grade,
                rank=row.rank,
                temperature=row.temperature,
                source_channel=row.source_channel,
                first_campaign=None
                if row.first_campaign is None
                else campaigns[row.first_campaign],
                last_campaign=None if row.last_campaign is None else campaigns[row.last_campaign],
                utm_source=row.utm_source,
                utm_medium=row.utm_medium,
                utm_campaign=row.utm_campaign,
                utm_term=row.utm_term,
                utm_content=row.utm_content,
                created_at=row.created_at,
                updated_at=row.stage_changed_at,
            )
            for row in rows
        ),
        batch_size=500,
    )
    LeadScore.objects.bulk_create(
        (
            LeadScore(
                lead=lead,
                fit_points=row.fit_points,
                behaviour_score=row.behaviour_score,
                temperature=row.temperature,
            )
            for lead, row in zip(leads, rows, strict=True)
        ),
        batch_size=1000,
    )
    actors = {"rule": None, "marketer": marketer}
    transitions = StageTransition.objects.bulk_create(
        (
            StageTransition(
                lead=lead,
                from_stage=step.from_stage,
                to_stage=step.to_stage,
                at=step.at,
                by_user=lead.owner if step.actor == "owner" else actors[step.actor],
                by_rule=MQL_RULE if step.actor == "rule" else "",
                reason=step.reason,
            )
            for lead, row in zip(leads, rows, strict=True)
            for step in row.transitions
        ),
        batch_size=1000,
    )
    events = Event.objects.bulk_create(
        (
            Event(
                lead=lead,
                kind=event.kind,
                url=event.url,
                asset=event.asset,
                campaign=None if event.campaign is None else campaigns[event.campaign],
                occurred_at=event.occurred_at,
                properties=event.properties,
            )
            for lead, row in zip(leads, rows, strict=True)
            for event in row.events
        ),
        batch_size=1000,
    )
    opportunities = Opportunity.objects.bulk_create(
        (
            Opportunity(
                lead=lead,
                owner=lead.owner,
                name=opp.name,
                amount=opp.amount,
                currency=opp.currency,
                expected_margin=opp.expected_margin,
                probability=opp.probability,
                expected_close_on=opp.expected_close_on,
                status=opp.status,
                lost_reason=opp.lost_reason,
                closed_at=opp.closed_at,
                created_at=opp.created_at,
            )
            for lead, row in zip(leads, rows, strict=True)
            if (opp := row.opportunity) is not None
        ),
        batch_size=1000,
    )
    activities = Activity.objects.bulk_create(
        (
            Activity(
                lead=lead,
                author=lead.owner,
                kind=activity.kind,
                subject=activity.subject,
                body=activity.body,
                due_at=activity.due_at,
                done_at=activity.done_at,
                assignee=lead.owner if activity.kind == Activity.Kind.TASK else None,
                created_at=activity.created_at,
            )
            for lead, row in zip(leads, rows, strict=True)
            for activity in row.activities
        ),
        batch_size=1000,
    )
    consents = Consent.objects.bulk_create(
        (
            Consent(
                lead=lead,
                purpose=consent.purpose,
                status=consent.status,
                source=consent.source,
                recorded_at=consent.recorded_at,
                ip_address=consent.ip_address,
                confirmed_at=consent.confirmed_at,
            )
            for lead, row in zip(leads, rows, strict=True)
            for consent in row.consents
        ),
        batch_size=1000,
    )
    sales = load_sales(
        leads=leads, transitions=transitions, reps=reps, seed=generator.rng.randrange(2**32)
    )
    place_opportunities()
    counts = {
        "campaigns": len(campaigns),
        "campaign costs": len(costs),
        "companies": len(companies),
        "leads": len(leads),
    }
    stage_counts = Counter(lead.stage for lead in leads)
    for stage in Stage:
        counts[f"  {stage.value}"] = stage_counts[stage.value]
    return (
        counts
        | {
            "stage transitions": len(transitions),
            "events": len(events),
            "opportunities": len(opportunities),
            "activities": len(activities),
            "consents": len(consents),
            **sales,
            **load_forms(),
        }
        | _placed()
    )


def _placed() -> dict[str, int]:
    place_opportunities()
    return {}

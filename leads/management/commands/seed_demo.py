"""Load realistic demo data: users for each role, campaigns with costs, companies and leads in every
stage with a consistent stage history, events, activities, consents and opportunities.

Reproducible (``--seed``), fast (bulk inserts in one transaction) and idempotent: a second run only
makes sure the demo users exist. The pure helpers at the top (stage mix, stage paths, scores) are
shared with ``bench/generate.py`` so the benchmark data has the same shape as the demo.
"""

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from faker import Faker

from leadcrm.roles import Role
from leads.lifecycle import Stage, is_allowed
from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Channel,
    Company,
    CompanySize,
    Consent,
    Event,
    EventKind,
    Grade,
    Industry,
    Lead,
    Opportunity,
    Seniority,
    StageTransition,
    Temperature,
)
from leads.normalize import normalize_email

DEMO_PASSWORD = "demo-password"
DEMO_USERS: list[tuple[str, str, str, str]] = [
    # username, first name, last name, role
    ("marketer", "Mara", "Keller", Role.MARKETER),
    ("rep", "Rafael", "Brandt", Role.SALES_REP),
    ("rep2", "Rita", "Okafor", Role.SALES_REP),
    ("manager", "Moritz", "Hahn", Role.SALES_MANAGER),
    ("admin", "Ada", "Winter", Role.ADMIN),
]
# Every demo address and web domain ends in the reserved .example TLD: no mail ever leaves.
DEMO_TLD = "example"
MQL_RULE = "mql_threshold"

# The funnel: many unqualified leads, fewer at each later stage, some recycled or disqualified.
STAGE_WEIGHTS: dict[str, float] = {
    Stage.UNQUALIFIED: 0.45,
    Stage.MQL: 0.14,
    Stage.SQL: 0.10,
    Stage.OPPORTUNITY: 0.05,
    Stage.CUSTOMER: 0.04,
    Stage.NURTURE: 0.13,
    Stage.DISQUALIFIED: 0.09,
}
_STAGES = list(STAGE_WEIGHTS)
_STAGE_CUM_WEIGHTS = [sum(list(STAGE_WEIGHTS.values())[: i + 1]) for i in range(len(_STAGES))]

GRADE_THRESHOLDS: tuple[tuple[int, str], ...] = ((75, "A"), (50, "B"), (25, "C"))
BAND_THRESHOLDS: tuple[tuple[float, int], ...] = ((100.0, 1), (50.0, 2), (20.0, 3))
HOT_RANKS = frozenset({"A1", "A2", "B1"})
WARM_RANKS = frozenset({"A3", "B2", "B3", "C1", "C2"})

# (fit points low, mode, high) and (behaviour score low, mode, high) by current stage.
_FIT_RANGES: dict[str, tuple[int, int, int]] = {
    Stage.UNQUALIFIED: (0, 30, 100),
    Stage.MQL: (50, 70, 100),
    Stage.SQL: (55, 80, 100),
    Stage.OPPORTUNITY: (55, 85, 100),
    Stage.CUSTOMER: (60, 85, 100),
    Stage.NURTURE: (20, 50, 90),
    Stage.DISQUALIFIED: (0, 15, 60),
}
_SCORE_RANGES: dict[str, tuple[float, float, float]] = {
    Stage.UNQUALIFIED: (0.0, 8.0, 49.0),
    Stage.MQL: (50.0, 70.0, 160.0),
    Stage.SQL: (40.0, 90.0, 180.0),
    Stage.OPPORTUNITY: (30.0, 110.0, 200.0),
    Stage.CUSTOMER: (5.0, 30.0, 90.0),
    Stage.NURTURE: (0.0, 12.0, 60.0),
    Stage.DISQUALIFIED: (0.0, 3.0, 30.0),
}

NURTURE_REASONS = [
    "No budget this year",
    "Timing: revisit next quarter",
    "Not the decision maker",
    "Opportunity lost to a competitor",
    "Went quiet after the demo",
]
DISQUALIFY_REASONS = [
    "Student / private person",
    "Competitor",
    "Company too small",
    "Invalid contact data",
    "Duplicate",
]
LOST_REASONS = ["Price", "Competitor chosen", "No decision", "Project postponed"]


def pick_stage(rng: random.Random) -> str:
    """A stage drawn from the funnel mix."""
    return rng.choices(_STAGES, cum_weights=_STAGE_CUM_WEIGHTS)[0]


def stage_path(rng: random.Random, stage: str) -> list[str]:
    """The stages a lead went through to reach ``stage``, from its creation, along allowed moves."""
    u, m, s, o = Stage.UNQUALIFIED, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY
    funnel = [u, m, s, o, Stage.CUSTOMER]
    if stage == Stage.UNQUALIFIED:
        path = [u, Stage.DISQUALIFIED, u] if rng.random() < 0.04 else [u]
    elif stage == Stage.MQL:
        path = [u, m, Stage.NURTURE, m] if rng.random() < 0.15 else [u, m]
    elif stage in funnel:
        path = funnel[: funnel.index(stage) + 1]
    else:
        # Side exits: leave the funnel from one of its open stages.
        left_at = rng.choices([1, 2, 3, 4], weights=[5, 3, 2, 1])[0]
        path = [*funnel[:left_at], stage]
    return path


def step_actor(from_stage: str, to_stage: str) -> str:
    """Who makes a move: the MQL rule, marketing or sales."""
    if to_stage == Stage.MQL:
        return MQL_RULE
    if from_stage in ("", Stage.UNQUALIFIED, Stage.DISQUALIFIED):
        return "marketing"
    return "sales"


def step_reason(rng: random.Random, from_stage: str, to_stage: str) -> str:
    if not from_stage:
        return ""  # the timeline says "Created in <stage>" in the reader's language
    if to_stage == Stage.NURTURE:
        if from_stage == Stage.OPPORTUNITY:
            return "Opportunity lost to a competitor"
        return rng.choice(NURTURE_REASONS[:3] + NURTURE_REASONS[4:])
    if to_stage == Stage.DISQUALIFIED:
        return rng.choice(DISQUALIFY_REASONS)
    if from_stage == Stage.DISQUALIFIED:
        return "Disqualified by mistake"
    return ""


def grade_for(fit_points: int) -> str:
    for threshold, grade in GRADE_THRESHOLDS:
        if fit_points >= threshold:
            return grade
    return Grade.D


def band_for(behaviour_score: float) -> int:
    for threshold, band in BAND_THRESHOLDS:
        if behaviour_score >= threshold:
            return band
    return 4


def temperature_for(rank: str) -> str:
    if rank in HOT_RANKS:
        return Temperature.HOT
    if rank in WARM_RANKS:
        return Temperature.WARM
    return Temperature.COLD


@dataclass(frozen=True)
class Scores:
    grade: str
    fit_points: int
    behaviour_score: float
    rank: str
    temperature: str


def scores_for(rng: random.Random, stage: str) -> Scores:
    """Fit and behaviour for a lead in ``stage``; grade, rank and temperature follow from them."""
    low, mode, high = _FIT_RANGES[stage]
    fit_points = round(rng.triangular(low, high, mode))
    low_s, mode_s, high_s = _SCORE_RANGES[stage]
    behaviour_score = round(rng.triangular(low_s, high_s, mode_s), 1)
    grade = grade_for(fit_points)
    if stage == Stage.UNQUALIFIED and grade in (Grade.A, Grade.B):
        # The MQL rule would already have promoted a good fit with a score of 50 or more.
        behaviour_score = min(behaviour_score, 49.0)
    rank = f"{grade}{band_for(behaviour_score)}"
    return Scores(grade, fit_points, behaviour_score, rank, temperature_for(rank))


def step_times(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` strictly increasing moments, the first at ``start``, all before ``end``."""
    span = max((end - start).total_seconds(), float(count))
    offsets = sorted(rng.uniform(0, span) for _ in range(count - 1))
    times = [start]
    for offset in offsets:
        moment = start + timedelta(seconds=offset)
        times.append(max(moment, times[-1] + timedelta(seconds=1)))
    return times


def anchor_now() -> datetime:
    """Today's midnight (UTC): all generated times lie before it, so a seed gives the same data
    all day long."""
    today = datetime.now(tz=UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


# --- demo-only content -------------------------------------------------------------------------

# name, channel, direction, starts (days before today), runs (days, None = ongoing), cost per month
DEMO_CAMPAIGNS: list[tuple[str, str, str, int, int | None, int]] = [
    ("Monthly newsletter", Channel.NEWSLETTER, "inbound", 380, None, 400),
    ("Webinar: Lead scoring sales trusts", Channel.WEBINAR, "inbound", 300, 60, 2500),
    ("E-book: B2B funnel benchmarks", Channel.EBOOK, "inbound", 260, 120, 1800),
    ("SEO content hub", Channel.SEO, "inbound", 365, None, 1200),
    ("LinkedIn: marketing leaders DACH", Channel.SOCIAL, "inbound", 200, 90, 3000),
    ("Google Ads: CRM software", Channel.ADS, "inbound", 330, None, 4500),
    ("Cold e-mail: Mittelstand manufacturing", Channel.COLD_EMAIL, "outbound", 150, 45, 900),
    ("Cold calls: logistics", Channel.COLD_CALL, "outbound", 120, 60, 2200),
    ("Trade fair: Digital Marketing Expo", Channel.TRADE_FAIR, "outbound", 240, 3, 18000),
    ("Customer referral programme", Channel.REFERRAL, "inbound", 365, None, 300),
    ("Purchased list: trade association", Channel.PURCHASED_LIST, "outbound", 90, 30, 5000),
]
_UTM: dict[str, tuple[str, str]] = {
    Channel.NEWSLETTER: ("newsletter", "email"),
    Channel.WEBINAR: ("webinar", "event"),
    Channel.EBOOK: ("linkedin", "paid_social"),
    Channel.SEO: ("google", "organic"),
    Channel.SOCIAL: ("linkedin", "social"),
    Channel.ADS: ("google", "cpc"),
    Channel.COLD_EMAIL: ("outreach", "email"),
}
_AD_TERMS = [
    "crm software",
    "lead management",
    "lead scoring tool",
    "b2b crm",
    "marketing automation",
]
INDUSTRIES = [
    Industry.SOFTWARE,
    Industry.MANUFACTURING,
    Industry.LOGISTICS,
    Industry.AUTOMOTIVE,
    Industry.MECHANICAL_ENGINEERING,
    Industry.RETAIL,
    Industry.FINANCIAL_SERVICES,
    Industry.HEALTHCARE,
    Industry.ENERGY,
    Industry.CONSTRUCTION,
    Industry.CONSULTING,
    Industry.EDUCATION,
    Industry.TELECOMMUNICATIONS,
    Industry.CHEMICALS,
    Industry.MEDIA,
]
_SIZE_REVENUE: dict[str, tuple[int, int, int]] = {
    # weight, revenue low, revenue high (in the company's currency)
    CompanySize.S1_10: (12, 200_000, 2_000_000),
    CompanySize.S11_50: (25, 1_000_000, 10_000_000),
    CompanySize.S51_200: (28, 8_000_000, 50_000_000),
    CompanySize.S201_1000: (20, 40_000_000, 300_000_000),
    CompanySize.S1001_5000: (10, 250_000_000, 2_000_000_000),
    CompanySize.S5001_PLUS: (5, 1_500_000_000, 30_000_000_000),
}
_JOBS: list[tuple[str, str]] = [
    ("Marketing Manager", Seniority.MANAGER),
    ("Head of Marketing", Seniority.DIRECTOR),
    ("Sales Director", Seniority.DIRECTOR),
    ("Geschäftsführer", Seniority.C_LEVEL),
    ("CEO", Seniority.C_LEVEL),
    ("CMO", Seniority.C_LEVEL),
    ("VP Sales", Seniority.VP),
    ("IT-Leiter", Seniority.DIRECTOR),
    ("Einkäufer", Seniority.STAFF),
    ("Marketing Specialist", Seniority.STAFF),
    ("Sales Operations Analyst", Seniority.STAFF),
    ("Teamleiter Vertrieb", Seniority.MANAGER),
    ("", Seniority.UNKNOWN),
]
_DE_COUNTRIES = ["DE"] * 8 + ["AT", "CH"]
_EN_COUNTRIES = ["US"] * 5 + ["GB", "GB", "NL", "IE", "CA"]
_PAGES = ["/", "/features", "/integrations", "/blog/lead-scoring", "/blog/mql-vs-sql", "/about"]
_ASSETS = ["b2b-funnel-benchmarks.pdf", "lead-scoring-checklist.pdf", "crm-buyers-guide.pdf"]
# (kind, weight for leads before sales, weight for leads sales worked on)
_EVENT_MIX: list[tuple[str, int, int]] = [
    (EventKind.PAGE_VIEW, 40, 30),
    (EventKind.PRICING_PAGE_VIEW, 4, 10),
    (EventKind.FORM_SUBMIT, 3, 3),
    (EventKind.DOWNLOAD, 6, 6),
    (EventKind.NEWSLETTER_SIGNUP, 2, 1),
    (EventKind.WEBINAR_REGISTERED, 3, 4),
    (EventKind.WEBINAR_ATTENDED, 2, 3),
    (EventKind.EMAIL_OPEN, 25, 20),
    (EventKind.EMAIL_CLICK, 8, 8),
    (EventKind.QUOTE_REQUEST, 0, 2),
]
_ACTIVITY_SUBJECTS: dict[str, list[str]] = {
    Activity.Kind.CALL: ["Discovery call", "Follow-up call", "Qualification call"],
    Activity.Kind.MEETING: ["Product demo", "Meeting with IT", "Proposal review"],
    Activity.Kind.EMAIL: ["Sent proposal", "Sent case study", "Pricing questions answered"],
    Activity.Kind.NOTE: ["Budget confirmed for Q3", "Champion: head of marketing", "Uses Excel"],
    Activity.Kind.TASK: ["Send contract draft", "Call back next week", "Prepare ROI estimate"],
}


def _ascii_slug(text: str, sep: str = "-") -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore")
    words = "".join(ch if ch.isalnum() else " " for ch in plain.decode().lower()).split()
    return sep.join(words)


class Command(BaseCommand):
    help = "Load demo users and realistic demo data (once; a second run changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=3000, help="Number of leads (3000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (42).")

    def handle(self, *args: Any, leads: int, seed: int, **options: Any) -> None:
        with transaction.atomic():
            users = self._ensure_users()
            if Campaign.objects.filter(name=DEMO_CAMPAIGNS[0][0]).exists():
                self.stdout.write("Demo data already present; demo users checked.")
                return
            counts = DemoSeeder(seed=seed, users=users).seed(lead_count=leads)
        for label, count in counts.items():
            self.stdout.write(f"{label:<22} {count:>8}")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded; password: {DEMO_PASSWORD}"))

    def _ensure_users(self) -> dict[str, Any]:
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


class DemoSeeder:
    """Builds all demo rows in memory from one random generator, then bulk-inserts them."""

    def __init__(self, *, seed: int, users: dict[str, Any]) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(["de_DE", "en_US"])
        self.fake.seed_instance(seed)
        self.users = users
        self.reps = [users["rep"], users["rep2"]]
        self.now = anchor_now()

    def seed(self, *, lead_count: int) -> dict[str, int]:
        campaigns = self._campaigns()
        companies = self._companies(max(10, lead_count // 10))
        leads, histories = self._leads(lead_count, companies, campaigns)
        transitions = self._transitions(leads, histories)
        events = self._events(leads, histories, campaigns)
        opportunities = self._opportunities(leads, histories)
        activities = self._activities(leads, histories)
        consents = self._consents(leads, events)
        counts: dict[str, int] = {
            "campaigns": len(campaigns),
            "campaign costs": CampaignCost.objects.filter(campaign__in=campaigns).count(),
            "companies": len(companies),
            "leads": len(leads),
        }
        stage_counts = Counter(lead.stage for lead in leads)
        for stage in Stage:
            counts[f"  {stage.value}"] = stage_counts[stage.value]
        counts |= {
            "stage transitions": len(transitions),
            "events": len(events),
            "opportunities": len(opportunities),
            "activities": len(activities),
            "consents": len(consents),
        }
        return counts

    def _campaigns(self) -> list[Campaign]:
        today = self.now.date()
        campaigns = []
        for name, channel, direction, starts, runs, _monthly in DEMO_CAMPAIGNS:
            starts_on = today - timedelta(days=starts)
            ends_on = starts_on + timedelta(days=runs) if runs is not None else None
            campaigns.append(
                Campaign(
                    name=name,
                    channel=channel,
                    direction=direction,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    created_at=self._at(starts_on) - timedelta(days=14),
                )
            )
        Campaign.objects.bulk_create(campaigns)
        costs = []
        for campaign, (_name, _c, _d, _s, _r, monthly) in zip(
            campaigns, DEMO_CAMPAIGNS, strict=True
        ):
            last = min(campaign.ends_on or today, today)
            day = campaign.starts_on
            while day <= last:
                costs.append(
                    CampaignCost(
                        campaign=campaign,
                        incurred_on=day,
                        amount=Decimal(round(monthly * self.rng.uniform(0.8, 1.2), 2)).quantize(
                            Decimal("0.01")
                        ),
                        note=self.rng.choice(["Agency invoice", "Media spend", "Tools", ""]),
                    )
                )
                day += timedelta(days=30)
        CampaignCost.objects.bulk_create(costs)
        return campaigns

    def _at(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)

    def _companies(self, count: int) -> list[Company]:
        seen: set[str] = set()
        companies = []
        sizes = list(_SIZE_REVENUE)
        size_weights = [_SIZE_REVENUE[s][0] for s in sizes]
        while len(companies) < count:
            german = self.rng.random() < 0.6
            faker = self.fake["de_DE" if german else "en_US"]
            name = faker.company()
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            size = self.rng.choices(sizes, weights=size_weights)[0]
            _w, low, high = _SIZE_REVENUE[size]
            has_revenue = self.rng.random() < 0.8
            companies.append(
                Company(
                    name=name,
                    domain=f"{_ascii_slug(name)}.{DEMO_TLD}",
                    industry=self.rng.choice(INDUSTRIES),
                    size_band=size,
                    annual_revenue=Decimal(round(self.rng.uniform(low, high), -3))
                    if has_revenue
                    else None,
                    revenue_currency="EUR" if german else "USD",
                    created_at=self.now - timedelta(days=self.rng.randint(380, 900)),
                )
            )
        return Company.objects.bulk_create(companies)

    def _leads(
        self, count: int, companies: list[Company], campaigns: list[Campaign]
    ) -> tuple[list[Lead], list[list[tuple[str, datetime]]]]:
        rng = self.rng
        stages = [s.value for s in Stage]
        emails: set[str] = set()
        leads: list[Lead] = []
        histories: list[list[tuple[str, datetime]]] = []
        for index in range(count):
            # The first leads cover every stage once, so even a small demo shows the whole funnel.
            stage = stages[index] if index < len(stages) else pick_stage(rng)
            path = stage_path(rng, stage)
            created = self.now - timedelta(seconds=rng.uniform(3600, 365 * 86400))
            times = step_times(rng, created, self.now - timedelta(minutes=5), len(path))
            histories.append(list(zip(path, times, strict=True)))
            leads.append(self._lead(stage, path, created, times[-1], companies, campaigns, emails))
        return Lead.objects.bulk_create(leads, batch_size=500), histories

    def _lead(
        self,
        stage: str,
        path: list[str],
        created: datetime,
        changed: datetime,
        companies: list[Company],
        campaigns: list[Campaign],
        emails: set[str],
    ) -> Lead:
        rng = self.rng
        company = rng.choice(companies) if rng.random() < 0.9 else None
        german = (company.revenue_currency == "EUR") if company else rng.random() < 0.6
        faker = self.fake["de_DE" if german else "en_US"]
        first_name, last_name = faker.first_name(), faker.last_name()
        domain = company.domain if company else f"mail.{DEMO_TLD}"
        local = _ascii_slug(f"{first_name} {last_name}", sep=".") or "contact"
        email, suffix = f"{local}@{domain}", 1
        while email in emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        emails.add(email)
        job_title, seniority = rng.choice(_JOBS)
        if Stage.SQL in path or (stage == Stage.MQL and rng.random() < 0.5):
            owner = rng.choice(self.reps)
        else:
            owner = None
        first_campaign = rng.choice(campaigns) if rng.random() < 0.85 else None
        last_campaign = first_campaign
        if first_campaign is not None and rng.random() < 0.4:
            last_campaign = rng.choice(campaigns)
        utm = _UTM.get(first_campaign.channel, ("", "")) if first_campaign else ("", "")
        scores = scores_for(rng, stage)
        return Lead(
            email=email,
            email_key=normalize_email(email),
            first_name=first_name,
            last_name=last_name,
            phone=faker.phone_number()[:40] if rng.random() < 0.7 else "",
            job_title=job_title,
            seniority=seniority,
            country=rng.choice(_DE_COUNTRIES if german else _EN_COUNTRIES),
            city=faker.city()[:100],
            language="de" if german else "en",
            company=company,
            stage=stage,
            stage_changed_at=changed,
            owner=owner,
            grade=scores.grade,
            fit_points=scores.fit_points,
            behaviour_score=scores.behaviour_score,
            rank=scores.rank,
            temperature=scores.temperature,
            source_channel=first_campaign.channel
            if first_campaign
            else rng.choice([Channel.DIRECT, Channel.DIRECT, Channel.OTHER]),
            first_campaign=first_campaign,
            last_campaign=last_campaign,
            utm_source=utm[0],
            utm_medium=utm[1],
            utm_campaign=_ascii_slug(first_campaign.name)[:100] if utm[0] else "",
            utm_term=rng.choice(_AD_TERMS) if utm[1] == "cpc" else "",
            utm_content=rng.choice(["", "variant-a", "variant-b"]) if utm[0] else "",
            created_at=created,
            updated_at=changed,
        )

    def _transitions(
        self, leads: list[Lead], histories: list[list[tuple[str, datetime]]]
    ) -> list[StageTransition]:
        rows = []
        for lead, history in zip(leads, histories, strict=True):
            previous = ""
            for stage, at in history:
                if previous and not is_allowed(previous, stage):
                    raise AssertionError(f"demo path {previous} -> {stage} is not allowed")
                actor = step_actor(previous, stage)
                by_user = None
                if actor == "marketing":
                    by_user = self.users["marketer"]
                elif actor == "sales":
                    by_user = lead.owner or self.rng.choice(self.reps)
                rows.append(
                    StageTransition(
                        lead=lead,
                        from_stage=previous,
                        to_stage=stage,
                        at=at,
                        by_user=by_user,
                        by_rule=actor if actor == MQL_RULE else "",
                        reason=step_reason(self.rng, previous, stage),
                    )
                )
                previous = stage
        return StageTransition.objects.bulk_create(rows, batch_size=1000)

    def _events(
        self,
        leads: list[Lead],
        histories: list[list[tuple[str, datetime]]],
        campaigns: list[Campaign],
    ) -> list[Event]:
        rng = self.rng
        by_channel = {c.channel: c for c in campaigns}
        kinds_early = [k for k, _e, _l in _EVENT_MIX]
        weights_early = [e for _k, e, _l in _EVENT_MIX]
        weights_late = [la for _k, _e, la in _EVENT_MIX]
        rows = []
        for lead, history in zip(leads, histories, strict=True):
            stages = [stage for stage, _at in history]
            worked = Stage.SQL in stages
            for _ in range(rng.randint(2, 16) + (4 if worked else 0)):
                at = lead.created_at + timedelta(
                    seconds=rng.uniform(0, (self.now - lead.created_at).total_seconds())
                )
                kind = rng.choices(kinds_early, weights=weights_late if worked else weights_early)[
                    0
                ]
                rows.append(self._event(lead, kind, at, by_channel))
            if worked:
                # Sales accepted the lead after it asked for a demo.
                sql_at = next(at for stage, at in history if stage == Stage.SQL)
                at = max(lead.created_at, sql_at - timedelta(hours=rng.uniform(2, 72)))
                rows.append(self._event(lead, EventKind.DEMO_REQUEST, at, by_channel))
            if rng.random() < 0.03:
                rows.append(self._event(lead, EventKind.UNSUBSCRIBE, self.now, by_channel))
        return Event.objects.bulk_create(rows, batch_size=1000)

    def _event(self, lead: Lead, kind: str, at: datetime, by_channel: dict[str, Campaign]) -> Event:
        rng = self.rng
        base = f"https://www.leadcrm.{DEMO_TLD}"
        url, asset, campaign, properties = f"{base}{rng.choice(_PAGES)}", "", None, {}
        if kind == EventKind.PRICING_PAGE_VIEW:
            url = f"{base}/pricing"
        elif kind == EventKind.DOWNLOAD:
            asset = rng.choice(_ASSETS)
            url, campaign = f"{base}/downloads/{asset}", by_channel.get(Channel.EBOOK)
        elif kind in (EventKind.WEBINAR_REGISTERED, EventKind.WEBINAR_ATTENDED):
            campaign = by_channel.get(Channel.WEBINAR)
            asset, url = campaign.name if campaign else "", f"{base}/webinars/lead-scoring"
        elif kind in (EventKind.EMAIL_OPEN, EventKind.EMAIL_CLICK, EventKind.UNSUBSCRIBE):
            campaign = by_channel.get(Channel.NEWSLETTER)
            url = "" if kind == EventKind.EMAIL_OPEN else url
            properties = {"message_id": f"nl-{at:%Y%m}-{lead.pk}"}
        elif kind in (EventKind.FORM_SUBMIT, EventKind.NEWSLETTER_SIGNUP):
            url, campaign = f"{base}/contact", lead.first_campaign
        elif kind in (EventKind.DEMO_REQUEST, EventKind.QUOTE_REQUEST):
            url, campaign = (
                f"{base}/{'demo' if kind == EventKind.DEMO_REQUEST else 'quote'}",
                (lead.last_campaign),
            )
        elif lead.utm_source:
            properties = {"utm_source": lead.utm_source, "utm_medium": lead.utm_medium}
            campaign = lead.first_campaign
        return Event(
            lead=lead,
            kind=kind,
            url=url,
            asset=asset,
            campaign=campaign,
            occurred_at=at,
            properties=properties,
        )

    def _opportunities(
        self, leads: list[Lead], histories: list[list[tuple[str, datetime]]]
    ) -> list[Opportunity]:
        rng = self.rng
        rows = []
        for lead, history in zip(leads, histories, strict=True):
            stages = [stage for stage, _at in history]
            if Stage.OPPORTUNITY not in stages:
                continue
            opened = next(at for stage, at in history if stage == Stage.OPPORTUNITY)
            amount = Decimal(rng.randrange(3_000, 120_000, 500))
            opportunity = Opportunity(
                lead=lead,
                name=f"{lead.company.name if lead.company else lead.full_name}: CRM licence",
                amount=amount,
                expected_margin=(amount * Decimal(rng.uniform(0.2, 0.45))).quantize(
                    Decimal("0.01")
                ),
                owner=lead.owner,
                created_at=opened,
            )
            if lead.stage == Stage.OPPORTUNITY:
                opportunity.probability = rng.choice([20, 40, 60, 80])
                opportunity.expected_close_on = (
                    self.now + timedelta(days=rng.randint(7, 120))
                ).date()
            else:
                closed_at = history[stages.index(Stage.OPPORTUNITY) + 1][1]
                won = lead.stage == Stage.CUSTOMER
                opportunity.status = Opportunity.Status.WON if won else Opportunity.Status.LOST
                opportunity.probability = 100 if won else 0
                opportunity.closed_at = closed_at
                opportunity.expected_close_on = closed_at.date()
                opportunity.lost_reason = "" if won else rng.choice(LOST_REASONS)
            rows.append(opportunity)
        return Opportunity.objects.bulk_create(rows, batch_size=1000)

    def _activities(
        self, leads: list[Lead], histories: list[list[tuple[str, datetime]]]
    ) -> list[Activity]:
        rng = self.rng
        kinds = list(_ACTIVITY_SUBJECTS)
        rows = []
        for lead, history in zip(leads, histories, strict=True):
            if lead.owner is None:
                continue
            start = history[1][1] if len(history) > 1 else history[0][1]
            for _ in range(rng.randint(1, 5)):
                kind = rng.choice(kinds)
                created = start + timedelta(
                    seconds=rng.uniform(0, max(60.0, (self.now - start).total_seconds()))
                )
                due_at = done_at = None
                if kind == Activity.Kind.TASK:
                    due_at = created + timedelta(days=rng.randint(1, 14))
                    done_at = due_at if due_at < self.now and rng.random() < 0.7 else None
                elif kind in (Activity.Kind.CALL, Activity.Kind.MEETING):
                    done_at = created
                rows.append(
                    Activity(
                        lead=lead,
                        kind=kind,
                        subject=rng.choice(_ACTIVITY_SUBJECTS[kind]),
                        body=self.fake.sentence(nb_words=12) if rng.random() < 0.5 else "",
                        due_at=due_at,
                        done_at=done_at,
                        author=lead.owner,
                        created_at=min(created, self.now),
                    )
                )
        return Activity.objects.bulk_create(rows, batch_size=1000)

    def _consents(self, leads: list[Lead], events: list[Event]) -> list[Consent]:
        rng = self.rng
        unsubscribed = {e.lead_id for e in events if e.kind == EventKind.UNSUBSCRIBE}
        rows = []
        for lead in leads:
            ip = f"192.0.2.{rng.randint(1, 254)}"  # TEST-NET-1: documentation addresses only
            granted_at = lead.created_at
            if rng.random() < 0.9:
                rows.append(
                    Consent(
                        lead=lead,
                        purpose=Consent.Purpose.MARKETING_EMAIL,
                        status=Consent.Status.GRANTED,
                        source=Consent.Source.WEB_FORM,
                        recorded_at=granted_at,
                        ip_address=ip,
                        confirmed_at=granted_at + timedelta(minutes=rng.randint(1, 600)),
                    )
                )
                if lead.pk in unsubscribed:
                    rows.append(
                        Consent(
                            lead=lead,
                            purpose=Consent.Purpose.MARKETING_EMAIL,
                            status=Consent.Status.WITHDRAWN,
                            source=Consent.Source.UNSUBSCRIBE_LINK,
                            recorded_at=self.now,
                        )
                    )
            elif rng.random() < 0.5:
                rows.append(
                    Consent(
                        lead=lead,
                        purpose=Consent.Purpose.MARKETING_EMAIL,
                        status=Consent.Status.PENDING,
                        source=Consent.Source.WEB_FORM,
                        recorded_at=granted_at,
                        ip_address=ip,
                    )
                )
            if rng.random() < 0.6:
                rows.append(
                    Consent(
                        lead=lead,
                        purpose=Consent.Purpose.TRACKING,
                        status=Consent.Status.GRANTED,
                        source=Consent.Source.COOKIE_BANNER,
                        recorded_at=granted_at,
                        ip_address=ip,
                    )
                )
        return Consent.objects.bulk_create(rows, batch_size=1000)

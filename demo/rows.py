"""The rows ``demo.generator`` draws: plain data, one class per table, pointing at related rows by
position (see the generator's docstring)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(slots=True)
class CampaignRow:
    name: str
    channel: str
    direction: str
    starts_on: date
    ends_on: date | None
    created_at: datetime
    monthly_cost: int


@dataclass(slots=True)
class CostRow:
    campaign: int
    incurred_on: date
    amount: Decimal
    note: str


@dataclass(slots=True)
class CompanyRow:
    name: str
    domain: str
    industry: str
    size_band: str
    annual_revenue: Decimal | None
    revenue_currency: str
    created_at: datetime
    country: str
    town: tuple[str, str]


@dataclass(slots=True)
class TransitionRow:
    from_stage: str
    to_stage: str
    at: datetime
    actor: str  # "rule" (by_rule = demo.rules.MQL_RULE), "marketer" or "owner" (the lead's owner)
    reason: str


@dataclass(slots=True)
class EventRow:
    kind: str
    url: str
    asset: str
    campaign: int | None
    occurred_at: datetime
    properties: dict[str, str]


@dataclass(slots=True)
class ActivityRow:
    kind: str
    subject: str
    body: str
    due_at: datetime | None
    done_at: datetime | None
    created_at: datetime


@dataclass(slots=True)
class ConsentRow:
    purpose: str
    status: str
    source: str
    recorded_at: datetime
    ip_address: str | None
    confirmed_at: datetime | None


@dataclass(slots=True)
class OpportunityRow:
    name: str
    amount: Decimal
    currency: str
    expected_margin: Decimal
    probability: int
    expected_close_on: date | None
    status: str
    lost_reason: str
    closed_at: datetime | None
    created_at: datetime


@dataclass(slots=True)
class LeadRow:
    email: str
    email_key: str
    first_name: str
    last_name: str
    phone: str
    job_title: str
    seniority: str
    country: str
    city: str
    language: str
    company: int | None
    stage: str
    stage_changed_at: datetime
    owner: int | None
    grade: str
    fit_points: int
    behaviour_score: float
    rank: str
    temperature: str
    source_channel: str
    first_campaign: int | None
    last_campaign: int | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    created_at: datetime
    transitions: list[TransitionRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)
    consents: list[ConsentRow] = field(default_factory=list)
    opportunity: OpportunityRow | None = None

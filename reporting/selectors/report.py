"""What a report asks for (ReportFilter: period, attribution, grouping, filters), who may see it,
and the row every report is made of (KpiRow)."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import (
    DecimalField,
)
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadcrm.roles import Role, has_role
from leads.lifecycle import Stage
from reporting.models import (
    Attribution,
)

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=20, decimal_places=2)


class Granularity(models.TextChoices):
    DAY = "day", gettext_lazy("Day")
    WEEK = "week", gettext_lazy("Week")
    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")


class GroupBy:
    CAMPAIGN = "campaign"
    CHANNEL = "channel"
    DIRECTION = "direction"
    PERIOD = "period"


# The funnel's stages after "lead" (unqualified), as the report names them.
STAGE_KEYS = ["mqls", "sqls", "opportunities", "customers"]
NO_CAMPAIGN = "none"


@dataclass(frozen=True)
class ReportFilter:
    """What a report looks at. Days are local days (Europe/Berlin), both inclusive."""

    since: date
    until: date
    attribution: str = Attribution.FIRST
    granularity: str = Granularity.MONTH
    channel: str | None = None
    direction: str | None = None
    campaign_id: int | None = None
    owner_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the period: midnight after ``until``, local time."""
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=self.zone)

    def previous(self) -> "ReportFilter":
        """The period of the same length just before this one (for "change vs previous")."""
        days = (self.until - self.since).days + 1
        return replace(
            self,
            since=self.since - timedelta(days=days),
            until=self.since - timedelta(days=1),
        )

    @property
    def campaign_field(self) -> str:
        return "last_campaign" if self.attribution == Attribution.LAST else "first_campaign"


# Reports cover days in this range (a period before it would be nonsense; and the day after
# ``until`` and the period before ``since`` must still be dates).
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
MAX_DAYS = 3 * 366


def period_errors(since: date, until: date) -> dict[str, str]:
    """What is wrong with a report period, by field (empty when it is fine)."""
    if since < EARLIEST:
        return {"since": _("Choose a day from 1970 on.")}
    if until > LATEST:
        return {"until": _("Choose a day before 3000.")}
    if since > until:
        return {"until": _("The last day is before the first.")}
    if (until - since).days >= MAX_DAYS:
        return {"since": _("A report covers at most three years.")}
    return {}


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: the first day of the month eleven months ago until today."""
    today = today or timezone.localdate()
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def report_scope(*, user, wanted: ReportFilter) -> ReportFilter:
    """The filter ``user`` may have: a sales rep sees the figures of their own leads only (the
    owner filter is set to them whatever was asked); others see everything they ask for."""
    if sees_everyones_figures(user):
        return wanted
    if has_role(user, Role.SALES_REP):
        return replace(wanted, owner_id=user.pk)
    raise ValidationError(_("Your role may not see reports."))


def sees_everyones_figures(user) -> bool:
    return has_role(user, Role.MARKETER, Role.SALES_MANAGER, Role.ADMIN)


def may_see_reports(user) -> bool:
    return has_role(user, Role.MARKETER, Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN)


def _ratio(part, whole) -> Decimal | None:
    """part / whole, or None (shown as a dash) when whole is zero or unknown."""
    if part is None or not whole:
        return None
    return Decimal(part) / Decimal(whole)


@dataclass
class KpiRow:
    """The figures of one group (a campaign, channel, direction or period) or of all."""

    key: str | int | date | None = None
    label: str = ""
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    opportunities: int = 0
    customers: int = 0
    # Median seconds in a stage before the next funnel stage, for leads that moved on.
    median_seconds: dict[str, float | None] = field(default_factory=dict)
    gross_margin: Decimal = ZERO
    # None: not shown (an owner filter: costs belong to campaigns, not to reps).
    cost: Decimal | None = ZERO
    visitors: int | None = None
    identified_visitors: int | None = None
    budget: Decimal | None = None

    @property
    def funnel(self) -> list[tuple[str, int]]:
        return [
            (Stage.UNQUALIFIED.value, self.leads),
            (Stage.MQL.value, self.mqls),
            (Stage.SQL.value, self.sqls),
            (Stage.OPPORTUNITY.value, self.opportunities),
            (Stage.CUSTOMER.value, self.customers),
        ]

    @cached_property
    def conversions(self) -> dict[str, Decimal | None]:
        """Stage-to-stage conversion: "unqualified_mql" = MQLs / leads, and so on."""
        steps = self.funnel
        return {
            f"{steps[i][0]}_{steps[i + 1][0]}": _ratio(steps[i + 1][1], steps[i][1])
            for i in range(len(steps) - 1)
        }

    @property
    def lead_to_customer(self) -> Decimal | None:
        return _ratio(self.customers, self.leads)

    @property
    def visitor_to_lead(self) -> Decimal | None:
        return _ratio(self.identified_visitors, self.visitors)

    @property
    def cpl(self) -> Decimal | None:
        return _ratio(self.cost, self.leads)

    @property
    def cpa(self) -> Decimal | None:
        return _ratio(self.cost, self.customers)

    @property
    def roi(self) -> Decimal | None:
        if self.cost is None:
            return None
        return _ratio(self.gross_margin - self.cost, self.cost)

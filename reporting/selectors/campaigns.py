"""Campaigns: budget against spend, costs and exchange rates."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.models import (
    Campaign,
    CampaignCost,
    Opportunity,
)
from reporting.models import (
    ExchangeRate,
)
from reporting.selectors.money import _rate_expression, _refuse_unconvertible, _unconvertible
from reporting.selectors.report import MONEY, ZERO, _ratio

# --- campaigns: budget vs spend --------------------------------------------------------------


def _spent():
    """All costs of a campaign in the report currency (a Subquery per campaign row)."""
    costs = (
        CampaignCost.objects.filter(campaign=OuterRef("pk"))
        .values("campaign")
        .annotate(
            total=Sum(
                F("amount") * _rate_expression(on=OuterRef("incurred_on")), output_field=MONEY
            )
        )
        .values("total")
    )
    return Coalesce(Subquery(costs, output_field=MONEY), Value(ZERO), output_field=MONEY)


def campaign_list() -> QuerySet[Campaign]:
    """Campaigns with what they cost so far (``spent``) and their budget (``budget_converted``,
    None without a budget or without a rate for its currency), both in the report currency,
    newest first: one query. Costs in a currency without a rate are refused."""
    _refuse_unconvertible(_unconvertible(CampaignCost.objects.all()))
    return Campaign.objects.annotate(
        spent=_spent(),
        budget_converted=ExpressionWrapper(
            F("budget")
            * _rate_expression(
                "budget_currency", on=Coalesce(OuterRef("starts_on"), Value(timezone.localdate()))
            ),
            output_field=MONEY,
        ),
        cost_rows=Count("costs"),
    ).order_by(F("starts_on").desc(nulls_last=True), "name")


@dataclass(frozen=True)
class Spend:
    budget: Decimal | None
    budget_currency: str
    spent: Decimal
    # The budget in the report currency: None without a budget or a rate for its currency.
    budget_converted: Decimal | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> "Spend":
        """From a campaign_list() row."""
        return cls(
            budget=campaign.budget,
            budget_currency=campaign.budget_currency,
            spent=campaign.spent,
            budget_converted=campaign.budget_converted,
        )

    @property
    def share(self) -> Decimal | None:
        """Spent / budget (1.1 = 10 % over), both in the report currency; None without a
        budget or without an exchange rate for its currency."""
        return _ratio(self.spent, self.budget_converted)

    @property
    def over(self) -> bool:
        return self.share is not None and self.share > 1


def campaign_spend(*, campaign_id: int) -> Spend:
    return Spend.of(campaign_list().get(pk=campaign_id))


def campaign_costs(*, campaign_id: int) -> QuerySet[CampaignCost]:
    return CampaignCost.objects.filter(campaign_id=campaign_id).order_by("-incurred_on", "-id")


def exchange_rates() -> QuerySet[ExchangeRate]:
    """Every rate, each currency's newest first: the history, with ``is_current`` on the rate
    valid today (one query)."""
    rates = ExchangeRate.objects.filter(currency=OuterRef("currency"))
    today = timezone.localdate()
    current_from = Coalesce(
        Subquery(
            rates.filter(valid_from__lte=today).order_by("-valid_from").values("valid_from")[:1]
        ),
        Subquery(rates.order_by("valid_from").values("valid_from")[:1]),
    )
    return (
        ExchangeRate.objects.select_related("updated_by")
        .annotate(
            is_current=ExpressionWrapper(Q(valid_from=current_from), output_field=BooleanField())
        )
        .order_by("currency", "-valid_from")
    )


def currencies_without_rate() -> list[str]:
    """Currencies of costs or won margins that reports cannot add up yet (two queries)."""
    won = Opportunity.objects.filter(status=Opportunity.Status.WON, gross_margin__isnull=False)
    return sorted(_unconvertible(CampaignCost.objects.all()) | _unconvertible(won))

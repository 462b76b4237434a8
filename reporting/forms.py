"""Browser forms of the reports and campaign pages: input checked at the edge; figures come
from reporting.selectors, writes go through reporting.services."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.forms import OwnerChoiceField
from leads.models import Campaign, Channel
from leads.selectors import assignable_owners
from reporting import selectors
from reporting.models import Attribution
from reporting.selectors import NO_CAMPAIGN, Granularity, ReportFilter


class ReportFilterForm(forms.Form):
    """The dashboard's filters; the same parameters as /api/v1/reports/… take."""

    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    granularity = forms.ChoiceField(
        label=_("Trend by"), choices=Granularity.choices, required=False
    )
    attribution = forms.ChoiceField(
        label=_("Attribution"), choices=Attribution.choices, required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All channels")), *Channel.choices], required=False
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            ("", _("Inbound and outbound")),
            *Campaign.Direction.choices,
            (NO_CAMPAIGN, _("No campaign")),
        ],
        required=False,
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.order_by("name"),
        required=False,
        empty_label=_("All campaigns"),
    )
    owner = OwnerChoiceField(
        label=_("Owner"), queryset=assignable_owners(), required=False, empty_label=_("Anyone")
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and not selectors.sees_everyones_figures(user):
            # A sales rep sees their own figures only: no owner to choose.
            del self.fields["owner"]

    def clean(self) -> dict:
        data = super().clean()
        default_since, default_until = selectors.default_period()
        since = data.get("since") or default_since
        until = data.get("until") or default_until
        for name, message in selectors.period_errors(since, until).items():
            self.add_error(name, message)
        data["since"], data["until"] = since, until
        return data

    def report_filter(self) -> ReportFilter:
        """The filter asked for (call after is_valid(); defaults when unbound or invalid)."""
        data = self.cleaned_data if self.is_bound and not self.errors else {}
        since, until = selectors.default_period()
        owner = data.get("owner")
        campaign = data.get("campaign")
        return ReportFilter(
            since=data.get("since") or since,
            until=data.get("until") or until,
            attribution=data.get("attribution") or Attribution.FIRST,
            granularity=data.get("granularity") or Granularity.MONTH,
            channel=data.get("channel") or None,
            direction=data.get("direction") or None,
            campaign_id=campaign.pk if campaign else None,
            owner_id=owner.pk if owner else None,
        )


class AmountField(forms.CharField):
    """An amount typed in English or German format (1,234.56 or 1.234,56)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="decimal", autocomplete="off")

    def clean(self, value):
        from reporting.services import parse_amount

        text = super().clean(value)
        return parse_amount(text) if text else None


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Campaign.Direction.choices)
    starts_on = forms.DateField(
        label=_("Starts on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    budget = AmountField(label=_("Budget"), required=False)
    budget_currency = forms.RegexField(
        label=_("Budget currency"), regex=r"^[A-Z]{3}$", initial="EUR", max_length=3
    )


class CostForm(forms.Form):
    incurred_on = forms.DateField(
        label=_("Date (or first day)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("Last day (a cost for a period)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Spread over the months of the period, pro rata by days."),
    )
    amount = AmountField(label=_("Amount"))
    currency = forms.RegexField(
        label=_("Currency"), regex=r"^[A-Z]{3}$", initial="EUR", max_length=3
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class CostImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns campaign, date, amount and optionally currency, until, note; separated by "
            "commas or semicolons."
        ),
    )


class ExchangeRateForm(forms.Form):
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text=_("Three letters, e.g. USD."),
    )
    rate = forms.DecimalField(
        label=_("Value of one unit in EUR"),
        max_digits=14,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        localize=True,
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "Costs from this day on convert at this rate, until the next rate of the currency "
            "(empty: today)."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"valid_from": timezone.localdate()})
        super().__init__(*args, **kwargs)

"""Browser forms for sales work: they check input at the edge; sales.services writes."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from leadcrm.roles import Role
from leads.forms import OwnerChoiceField, owner_label
from leads.models import Activity, Industry, LostReason
from leads.selectors import assignable_owners
from sales.models import (
    BANT,
    MEDDIC,
    Qualification,
    QualificationPolicy,
    Rejection,
    Team,
    Weekday,
)
from sales.selectors import rejection_reasons
from sales.services import LOG_KINDS


class QualificationForm(forms.Form):
    """BANT and MEDDIC: per criterion a text and a "confirmed" box."""

    def __init__(self, *args: Any, qualification: Qualification | None = None, **kwargs: Any):
        # Ids of their own: the lead page holds several forms (the stage card has a "reason" too).
        kwargs.setdefault("auto_id", "qual_%s")
        if qualification is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(qualification, name) for name in self.criteria_field_names()
            }
        super().__init__(*args, **kwargs)
        for name, label, hint in [*BANT, *MEDDIC]:
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 1, "placeholder": hint}),
            )
            self.fields[f"{name}_confirmed"] = forms.BooleanField(
                label=_("Confirmed"), required=False
            )

    @staticmethod
    def criteria_field_names() -> list[str]:
        return [n for name, _l, _h in [*BANT, *MEDDIC] for n in (name, f"{name}_confirmed")]

    def rows(self, criteria) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[name], self[f"{name}_confirmed"]) for name, _label, _hint in criteria]

    def bant_rows(self):
        return self.rows(BANT)

    def meddic_rows(self):
        return self.rows(MEDDIC)


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class RejectForm(forms.Form):
    reason = ReasonChoiceField(queryset=None, label=_("Reason"), empty_label=_("Choose a reason"))
    to_stage = forms.ChoiceField(
        label=_("Send to"),
        choices=Rejection.ToStage.choices,
        initial=Rejection.ToStage.NURTURE,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for “Other”."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reject_%s")
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = rejection_reasons()


class ActivityLogForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(kind.value, kind.label) for kind in LOG_KINDS],
        initial=Activity.Kind.CALL,
        widget=forms.RadioSelect,
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "log_%s")
        super().__init__(*args, **kwargs)


class TaskForm(forms.Form):
    subject = forms.CharField(label=_("Task"), max_length=200)
    due_at = forms.DateTimeField(
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    assignee = OwnerChoiceField(queryset=None, label=_("Assigned to"), required=False)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "task_%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_owners(for_user=user)
        self.fields["assignee"].empty_label = _("Me (or the lead's owner)")


class PolicyForm(forms.ModelForm):
    class Meta:
        model = QualificationPolicy
        fields = ["bant_minimum", "meddic_minimum"]


class RejectionReasonForm(forms.Form):
    name = forms.CharField(label=_("Name (English)"), max_length=100)
    name_de = forms.CharField(label=_("Name (German)"), max_length=100, required=False)
    requires_note = forms.BooleanField(label=_("Note required"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=100)


class RejectionFilterForm(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ConvertForm(forms.Form):
    name = forms.CharField(label=_("Opportunity name"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, localize=True
    )
    expected_margin = forms.DecimalField(
        label=_("Expected gross margin"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    currency = forms.RegexField(
        label=_("Currency"), regex=r"\A[A-Za-z]{3}\Z", initial="EUR", max_length=3
    )
    expected_close_on = forms.DateField(
        label=_("Expected close"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class WinForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount won"), min_value=0, max_digits=14, decimal_places=2, localize=True
    )
    gross_margin = forms.DecimalField(
        label=_("Gross margin"), min_value=0, max_digits=14, decimal_places=2, localize=True
    )


class LoseForm(forms.Form):
    lost_because = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LostReason.objects.filter(active=True),
        empty_label=_("Choose a reason"),
    )
    note = forms.CharField(
        label=_("Note"), max_length=255, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    """A manager gives a lead to another rep or manager."""

    to_user = OwnerChoiceField(queryset=None, label=_("Reassign to"), empty_label=None)

    def __init__(self, *args: Any, lead=None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reassign_%s")
        super().__init__(*args, **kwargs)
        owners = assignable_owners()
        if lead is not None and lead.owner_id is not None:
            owners = owners.exclude(pk=lead.owner_id)
        self.fields["to_user"].queryset = owners


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    managers = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Managers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They see the team's load and get its overdue MQLs."),
    )
    workdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        label=_("Working days"),
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4],
    )
    day_starts = forms.TimeField(
        label=_("Working day starts"),
        initial="09:00",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    day_ends = forms.TimeField(
        label=_("Working day ends"), initial="17:00", widget=forms.TimeInput(attrs={"type": "time"})
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Berlin")
    sla_hours = forms.IntegerField(
        label=_("SLA (business hours)"),
        min_value=1,
        max_value=2000,
        initial=24,
        help_text=_("Business hours a rep has to accept or reject a new MQL."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["managers"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=[Role.SALES_MANAGER, Role.ADMIN])
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["managers"].label_from_instance = owner_label


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), label=_("Team"))
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("Rules are tried from the lowest position up; the first that fits wins."),
    )
    countries = forms.MultipleChoiceField(
        choices=list(countries),
        label=_("Countries"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("The territory: the lead's country. None chosen: any country."),
    )
    industries = forms.MultipleChoiceField(
        choices=[choice for choice in Industry.choices if choice[0]],
        label=_("Industries"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The industry of the lead's company. None chosen: any industry."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class RepProfileForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        label=_("Team"),
        required=False,
        empty_label=_("No team (gets no leads automatically)"),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=0,
        max_value=10_000,
        required=False,
        help_text=_("Most open MQLs and SQLs the rep holds; empty: no limit."),
    )
    away = forms.BooleanField(label=_("Away"), required=False)
    away_until = forms.DateTimeField(
        label=_("Away until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Back automatically at this time; empty: away until switched back."),
    )
    notify_by_email = forms.BooleanField(label=_("E-mail about new leads"), required=False)

    def __init__(self, *args: Any, manager: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not manager:
            del self.fields["team"]
            del self.fields["capacity"]

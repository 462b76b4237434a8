"""Browser forms: they check input at the edge; the services in leads.services do the writing."""

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leads import selectors
from leads.lifecycle import Stage
from leads.models import Campaign, Lead


def _model_field(name: str, **kwargs: Any) -> forms.Field:
    """The form field Django derives from the model field: same label, length and choices."""
    return Lead._meta.get_field(name).formfield(**kwargs)


def add_service_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a ValidationError raised by a service beside the field it names."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def owner_label(user: AbstractBaseUser) -> str:
    """How an owner is named in every select: full name, else the username."""
    return user.get_full_name() or user.get_username()


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return owner_label(obj)


class LeadForm(forms.Form):
    email = _model_field("email")
    first_name = _model_field("first_name")
    last_name = _model_field("last_name")
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    job_title = _model_field("job_title")
    seniority = _model_field("seniority")
    phone = _model_field("phone")
    country = _model_field("country")
    city = _model_field("city")
    language = _model_field("language")
    age_band = _model_field("age_band")
    owner = OwnerChoiceField(
        queryset=None, label=_("Owner"), required=False, empty_label=_("Unassigned")
    )
    source_channel = _model_field("source_channel")
    first_campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"),
        label=_("First campaign"),
        required=False,
        empty_label=_("No campaign"),
    )
    last_campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"),
        label=_("Last campaign"),
        required=False,
        empty_label=_("No campaign"),
    )
    utm_source = _model_field("utm_source")
    utm_medium = _model_field("utm_medium")
    utm_campaign = _model_field("utm_campaign")
    utm_term = _model_field("utm_term")
    utm_content = _model_field("utm_content")

    def __init__(
        self,
        *args: Any,
        user: AbstractBaseUser,
        lead: Lead | None = None,
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.lead = lead
        if lead is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(lead)
        super().__init__(*args, **kwargs)
        # A sales rep is offered only themselves; the service checks it again.
        self.fields["owner"].queryset = selectors.assignable_owners(for_user=user)
        # "Unknown" for an empty choice, as seniority and age band say (not "---------"); the
        # country names come in the reader's language, sorted for it.
        for name in ("country", "language"):
            field = self.fields[name]
            field.choices = [("", _("Unknown")), *(choice for choice in field.choices if choice[0])]

    @classmethod
    def initial_from(cls, lead: Lead) -> dict[str, Any]:
        initial = {
            name: getattr(lead, name)
            for name in cls.base_fields
            if name not in {"company_name", "owner", "first_campaign", "last_campaign"}
        }
        initial.update(
            company_name=lead.company.name if lead.company else "",
            owner=lead.owner_id,
            first_campaign=lead.first_campaign_id,
            last_campaign=lead.last_campaign_id,
        )
        return initial


class TransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("New stage"), choices=Stage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any stage validates, so the lifecycle service judges a stale choice and says what is
        # allowed now; the select offers only the moves allowed from the current stage.
        labels = dict(Stage.choices)
        self.fields["to_stage"].widget.choices = [(stage, labels[stage]) for stage in allowed]

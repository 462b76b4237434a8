"""The visitor's side of a capture form: the Django form built from its configuration, with the
honeypot, the signed render time and the hidden UTM fields. The hosted landing page, the embedded
form and the editor's live preview all render it with ``capture/_public_form.html``."""

import time

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from capture.intake import UTM_FIELDS
from capture.models import CaptureForm, FormField

TOKEN_SALT = "capture.form"
# A form page left open for a day is reloaded before it is sent.
TOKEN_MAX_AGE = 24 * 3600
HONEYPOT = "website"

DEFAULT_LABELS = {
    FormField.Name.EMAIL: gettext_lazy("E-mail"),
    FormField.Name.FIRST_NAME: gettext_lazy("First name"),
    FormField.Name.LAST_NAME: gettext_lazy("Last name"),
    FormField.Name.COMPANY: gettext_lazy("Company"),
    FormField.Name.JOB_TITLE: gettext_lazy("Job title"),
    FormField.Name.PHONE: gettext_lazy("Phone"),
    FormField.Name.COUNTRY: gettext_lazy("Country"),
    FormField.Name.CITY: gettext_lazy("City"),
}
AUTOCOMPLETE = {
    FormField.Name.EMAIL: "email",
    FormField.Name.FIRST_NAME: "given-name",
    FormField.Name.LAST_NAME: "family-name",
    FormField.Name.COMPANY: "organization",
    FormField.Name.JOB_TITLE: "organization-title",
    FormField.Name.PHONE: "tel",
    FormField.Name.COUNTRY: "country",
    FormField.Name.CITY: "address-level2",
}


def render_token(capture_form: CaptureForm) -> str:
    """Signed form id and render time: proves the form was shown, and when."""
    return signing.dumps({"form": capture_form.pk, "at": int(time.time())}, salt=TOKEN_SALT)


def _field(spec: FormField, label: str) -> forms.Field:
    widget_attrs = {"autocomplete": AUTOCOMPLETE[spec.name]}
    if spec.name == FormField.Name.EMAIL:
        return forms.EmailField(
            label=label, max_length=254, widget=forms.EmailInput(attrs=widget_attrs)
        )
    if spec.name == FormField.Name.COUNTRY:
        return forms.ChoiceField(
            label=label,
            required=spec.required,
            choices=[("", "—"), *countries],
            widget=forms.Select(attrs=widget_attrs),
        )
    max_length = {
        FormField.Name.COMPANY: 200,
        FormField.Name.JOB_TITLE: 150,
        FormField.Name.PHONE: 40,
    }.get(spec.name, 100)
    if spec.name == FormField.Name.PHONE:
        widget_attrs["type"] = "tel"
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=spec.required,
        widget=forms.TextInput(attrs=widget_attrs),
    )


class PublicForm(forms.Form):
    """A capture form as a visitor fills it in. Build it with ``public_form``."""

    token = forms.CharField(required=False, widget=forms.HiddenInput)
    page = forms.URLField(
        required=False, max_length=2000, assume_scheme="https", widget=forms.HiddenInput
    )
    visitor_id = forms.RegexField(
        regex=r"\A[A-Za-z0-9_-]{16,64}\Z", required=False, widget=forms.HiddenInput
    )

    def __init__(
        self,
        *args,
        capture_form: CaptureForm,
        language: str,
        fields_override: list[FormField] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.capture_form = capture_form
        self.language = language
        specs = fields_override if fields_override is not None else list(capture_form.fields.all())
        if not any(spec.name == FormField.Name.EMAIL for spec in specs):
            specs.insert(0, FormField(name=FormField.Name.EMAIL, required=True))
        for spec in specs:
            label = (
                (spec.label_de or spec.label_en) if language.startswith("de") else spec.label_en
            ) or str(DEFAULT_LABELS[spec.name])
            self.fields[spec.name] = _field(spec, label)
        if capture_form.capture_utm:
            for name in UTM_FIELDS:
                self.fields[name] = forms.CharField(
                    required=False, max_length=100, widget=forms.HiddenInput
                )
        consent_text = capture_form.text("consent", language)
        if consent_text:
            self.fields["consent"] = forms.BooleanField(
                label=consent_text, required=capture_form.consent_required
            )
        # Left empty by people (it is off screen and skipped by the tab key), filled by bots.
        self.fields[HONEYPOT] = forms.CharField(
            label=_("Leave this field empty"),
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        if not self.is_bound:
            self.fields["token"].initial = render_token(capture_form)

    @property
    def is_bot(self) -> bool:
        """Filled in the honeypot: answered as if accepted, and nothing is stored."""
        return bool(self.data.get(HONEYPOT))

    def visible_fields_in_order(self) -> list:
        hidden = {HONEYPOT, "consent"}
        return [bound for bound in self.visible_fields() if bound.name not in hidden]

    def clean(self) -> dict:
        """The render token is checked as a whole-form error: the visitor cannot fix a hidden
        field, only reload or take a moment."""
        cleaned = super().clean()
        reload = _("This form could not be checked. Please reload the page and send it again.")
        try:
            data = signing.loads(cleaned.get("token") or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        except signing.SignatureExpired:
            raise forms.ValidationError(
                _("This form was opened too long ago. Please reload the page and send it again.")
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError(reload) from None
        if not isinstance(data, dict) or data.get("form") != self.capture_form.pk:
            raise forms.ValidationError(reload)
        if time.time() - data.get("at", 0) < settings.LEADCRM_FORM_MIN_SECONDS:
            raise forms.ValidationError(
                _("That was very fast. Please check your entries and send the form again.")
            )
        return cleaned

    def lead_fields(self) -> dict[str, str]:
        """What the submission sets on the lead (empty values are left out by the upsert)."""
        data = self.cleaned_data
        names = [name for name in FormField.Name.values if name in data]
        if self.capture_form.capture_utm:
            names += [name for name in UTM_FIELDS if name in data]
        return {name: data[name] for name in names}


def public_form(
    capture_form: CaptureForm, language: str, data=None, initial: dict | None = None
) -> PublicForm:
    return PublicForm(data, capture_form=capture_form, language=language, initial=initial)

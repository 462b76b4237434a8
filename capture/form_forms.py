"""The capture form editor: the form's settings and its list of fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from capture.models import CaptureForm, FormField


class CaptureFormForm(forms.ModelForm):
    redirect_url = forms.URLField(
        label=CaptureForm._meta.get_field("redirect_url").verbose_name,
        help_text=CaptureForm._meta.get_field("redirect_url").help_text,
        required=False,
        max_length=200,
        assume_scheme="https",
    )

    class Meta:
        model = CaptureForm
        fields = [
            "name",
            "slug",
            "campaign",
            "is_active",
            "title_en",
            "title_de",
            "intro_en",
            "intro_de",
            "submit_en",
            "submit_de",
            "consent_en",
            "consent_de",
            "consent_purpose",
            "consent_required",
            "double_opt_in",
            "thank_you_en",
            "thank_you_de",
            "redirect_url",
            "capture_utm",
            "allowed_origins",
        ]
        widgets = {
            "intro_en": forms.Textarea(attrs={"rows": 2}),
            "intro_de": forms.Textarea(attrs={"rows": 2}),
            "consent_en": forms.Textarea(attrs={"rows": 2}),
            "consent_de": forms.Textarea(attrs={"rows": 2}),
            "thank_you_en": forms.Textarea(attrs={"rows": 2}),
            "thank_you_de": forms.Textarea(attrs={"rows": 2}),
            "allowed_origins": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_allowed_origins(self) -> str:
        value = self.cleaned_data["allowed_origins"]
        for line in value.splitlines():
            origin = line.strip().rstrip("/")
            if not origin:
                continue
            scheme, _sep, host = origin.partition("://")
            if scheme not in ("http", "https") or not host or "/" in host:
                raise ValidationError(
                    _("“%(origin)s” is not an origin: write scheme and host, e.g. %(example)s.")
                    % {"origin": line.strip(), "example": "https://www.example.com"}
                )
        return value

    def draft(self) -> CaptureForm:
        """The form as currently typed (unsaved), for the live preview."""
        if self.is_bound:
            self.is_valid()  # fills the instance with every value that is valid
        return self.instance


class FormFieldForm(forms.Form):
    name = forms.ChoiceField(
        label=gettext_lazy("lead field"), choices=[("", "—"), *FormField.Name.choices]
    )
    label_en = forms.CharField(
        label=gettext_lazy("label (English)"), max_length=100, required=False
    )
    label_de = forms.CharField(label=gettext_lazy("label (German)"), max_length=100, required=False)
    required = forms.BooleanField(label=gettext_lazy("required"), required=False)


class BaseFormFieldFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names = [row["name"] for row in self._rows()]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            labels = ", ".join(str(FormField.Name(name).label) for name in repeated)
            raise ValidationError(_("Each lead field once: %(fields)s.") % {"fields": labels})

    def _rows(self) -> list[dict]:
        """The valid, kept rows' values in the order given (the position column; rows without
        one keep their place after those with one)."""
        rows = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("name") or data.get("DELETE"):
                continue
            order = data.get("ORDER")
            rows.append((order is None, order or 0, index, data))
        return [
            {key: value for key, value in data.items() if key not in ("ORDER", "DELETE")}
            for *_sort, data in sorted(rows, key=lambda row: row[:3])
        ]

    def field_specs(self) -> list[dict]:
        """The fields to save, in the order given."""
        return self._rows()

    def draft_fields(self) -> list[FormField]:
        """The fields as currently typed (unsaved), for the live preview."""
        if not self.is_bound:
            return [
                FormField(**{key: value for key, value in row.items() if key != "ORDER"})
                for row in self.initial or []
            ]
        self.is_valid()
        seen: set[str] = set()
        return [
            FormField(**row)
            for row in self._rows()
            if not (row["name"] in seen or seen.add(row["name"]))
        ]

    @staticmethod
    def initial_for(capture_form: CaptureForm) -> list[dict]:
        if capture_form.pk:
            return [
                {
                    "ORDER": position,
                    "name": field.name,
                    "label_en": field.label_en,
                    "label_de": field.label_de,
                    "required": field.required,
                }
                for position, field in enumerate(capture_form.fields.all(), start=1)
            ]
        starter = [
            FormField.Name.EMAIL,
            FormField.Name.FIRST_NAME,
            FormField.Name.LAST_NAME,
            FormField.Name.COMPANY,
        ]
        return [
            {"ORDER": position, "name": name, "required": name == FormField.Name.EMAIL}
            for position, name in enumerate(starter, start=1)
        ]


FormFieldFormSet = forms.formset_factory(
    FormFieldForm,
    formset=BaseFormFieldFormSet,
    extra=2,
    can_delete=True,
    can_order=True,
    max_num=len(FormField.Name),
    validate_max=True,
)

"""The scoring rules page: a profile form, a temperature matrix and two rule formsets.

The forms check types at the edge; what the values mean (thresholds that fall, a value that fits
its field) is the service's to judge (``scoring.proposals.clean``). ``proposal_from`` turns the
bound forms into a proposal and remembers which form each rule came from, so that the service's
errors (``grade_rules.2.value``) land on the right row.
"""

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leads.models import Temperature
from scoring.models import BehaviourRule, GradeRule, ScoringProfile
from scoring.proposals import RANKS

GRADES = "ABCD"
BANDS = "1234"
PROFILE_NUMBERS = (
    "grade_a_min",
    "grade_b_min",
    "grade_c_min",
    "band_1_min",
    "band_2_min",
    "band_3_min",
    "half_life_days",
    "mql_min_score",
)


def _model_field(model, name: str, **kwargs: Any) -> forms.Field:
    return model._meta.get_field(name).formfield(**kwargs)


class ProfileForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    name = _model_field(ScoringProfile, "name")
    grade_a_min = _model_field(ScoringProfile, "grade_a_min", label=_("Grade A from"))
    grade_b_min = _model_field(ScoringProfile, "grade_b_min", label=_("Grade B from"))
    grade_c_min = _model_field(ScoringProfile, "grade_c_min", label=_("Grade C from"))
    band_1_min = _model_field(ScoringProfile, "band_1_min", label=_("Band 1 from"))
    band_2_min = _model_field(ScoringProfile, "band_2_min", label=_("Band 2 from"))
    band_3_min = _model_field(ScoringProfile, "band_3_min", label=_("Band 3 from"))
    half_life_days = _model_field(ScoringProfile, "half_life_days", label=_("Half-life (days)"))
    mql_grades = forms.MultipleChoiceField(
        label=_("MQL grades"),
        choices=[(grade, grade) for grade in GRADES],
        widget=forms.CheckboxSelectMultiple,
    )
    mql_min_score = _model_field(ScoringProfile, "mql_min_score", label=_("MQL from score"))

    def __init__(self, *args: Any, editable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The temperature matrix: one select per rank (A1 … D4), hot, warm or cold.
        for rank in RANKS:
            self.fields[f"rank_{rank}"] = forms.ChoiceField(
                label=_("Rank %(rank)s") % {"rank": rank}, choices=Temperature.choices
            )
        for rank in RANKS:
            name = f"rank_{rank}"
            self.fields[name].widget.attrs["class"] = f"temp-select temp-{self[name].value()}"
        for name in PROFILE_NUMBERS:
            self.fields[name].widget.attrs["class"] = "input-number"
        if not editable:
            for form_field in self.fields.values():
                form_field.disabled = True

    @staticmethod
    def initial_from(profile: dict[str, Any], *, base_version: int) -> dict[str, Any]:
        initial = {
            name: value
            for name, value in profile.items()
            if name not in {"hot_ranks", "warm_ranks", "mql_grades"}
        }
        initial["mql_grades"] = list(profile["mql_grades"])
        initial["base_version"] = base_version
        for rank in RANKS:
            initial[f"rank_{rank}"] = (
                Temperature.HOT
                if rank in profile["hot_ranks"]
                else Temperature.WARM
                if rank in profile["warm_ranks"]
                else Temperature.COLD
            )
        return initial

    def matrix(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Rows of grades A to D, each with bands 1 to 4, for the template."""
        return [(grade, [self[f"rank_{grade}{band}"] for band in BANDS]) for grade in GRADES]

    def profile_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        profile = {name: data[name] for name in ("name", *PROFILE_NUMBERS)}
        profile["mql_grades"] = "".join(data["mql_grades"])
        profile["hot_ranks"] = [r for r in RANKS if data[f"rank_{r}"] == Temperature.HOT]
        profile["warm_ranks"] = [r for r in RANKS if data[f"rank_{r}"] == Temperature.WARM]
        return profile


class _RuleForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, editable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not editable:
            for form_field in self.fields.values():
                form_field.disabled = True


class GradeRuleForm(_RuleForm):
    field = _model_field(GradeRule, "field")
    operator = _model_field(GradeRule, "operator")
    value = _model_field(GradeRule, "value", help_text="")
    points = _model_field(GradeRule, "points")


class BehaviourRuleForm(_RuleForm):
    name = _model_field(BehaviourRule, "name")
    event_kind = _model_field(BehaviourRule, "event_kind")
    pattern = _model_field(BehaviourRule, "pattern", help_text="")
    points = _model_field(BehaviourRule, "points")
    frequency = _model_field(BehaviourRule, "frequency")
    cap_points = _model_field(BehaviourRule, "cap_points", help_text="")
    cap_days = _model_field(BehaviourRule, "cap_days")


class _RuleFormSet(forms.BaseFormSet):
    def rows(self) -> list[forms.Form]:
        """The forms that are rules of the proposal, in order: every rule the page showed that
        is not marked for deletion, and the empty rows that were filled in."""
        return [
            form
            for index, form in enumerate(self.forms)
            if not self._should_delete_form(form)
            and (index < self.initial_form_count() or form.has_changed())
        ]


GradeRuleFormSet = forms.formset_factory(
    GradeRuleForm, formset=_RuleFormSet, extra=1, can_delete=True, max_num=200, validate_max=True
)
BehaviourRuleFormSet = forms.formset_factory(
    BehaviourRuleForm,
    formset=_RuleFormSet,
    extra=1,
    can_delete=True,
    max_num=200,
    validate_max=True,
)
GRADE_PREFIX = "grade"
BEHAVIOUR_PREFIX = "behaviour"


@dataclass
class RulesForms:
    """Everything the rules page edits, bound or not."""

    profile: ProfileForm
    grade_rules: _RuleFormSet
    behaviour_rules: _RuleFormSet
    # Which form each rule of the last proposal came from, by the proposal's list index.
    _rows: dict[str, list[forms.Form]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        data: Any = None,
        proposal: dict[str, Any] | None = None,
        base_version: int | None = None,
        editable: bool = True,
    ) -> "RulesForms":
        kwargs = {"form_kwargs": {"editable": editable}}
        if data is not None:
            return cls(
                profile=ProfileForm(data, editable=editable),
                grade_rules=GradeRuleFormSet(data, prefix=GRADE_PREFIX, **kwargs),
                behaviour_rules=BehaviourRuleFormSet(data, prefix=BEHAVIOUR_PREFIX, **kwargs),
            )
        if proposal is None or base_version is None:
            raise TypeError("Give the posted data, or a proposal and its base version.")
        return cls(
            profile=ProfileForm(
                initial=ProfileForm.initial_from(proposal["profile"], base_version=base_version),
                editable=editable,
            ),
            grade_rules=_formset(GradeRuleFormSet, proposal["grade_rules"], GRADE_PREFIX, editable),
            behaviour_rules=_formset(
                BehaviourRuleFormSet, proposal["behaviour_rules"], BEHAVIOUR_PREFIX, editable
            ),
        )

    def is_valid(self) -> bool:
        results = [
            self.profile.is_valid(),
            self.grade_rules.is_valid(),
            self.behaviour_rules.is_valid(),
        ]
        return all(results)

    def has_errors(self) -> bool:
        return bool(
            self.profile.errors
            or self.grade_rules.total_error_count()
            or self.behaviour_rules.total_error_count()
        )

    def proposal(self) -> dict[str, Any]:
        """The proposal the valid forms describe."""
        proposal: dict[str, Any] = {"profile": self.profile.profile_data()}
        for key, formset in (
            ("grade_rules", self.grade_rules),
            ("behaviour_rules", self.behaviour_rules),
        ):
            rows = formset.rows()
            self._rows[key] = rows
            proposal[key] = [
                {name: value for name, value in form.cleaned_data.items() if name != "DELETE"}
                for form in rows
            ]
        return proposal

    def add_service_error(self, exc: ValidationError) -> None:
        """Put each error of ``scoring.proposals.clean`` (or the rescoring service) beside the
        field it names: ``profile.grade_b_min``, ``grade_rules.2.value``, ``base_version``."""
        if not hasattr(exc, "error_dict"):
            self.profile.add_error(None, exc.messages)
            return
        for key, errors in exc.error_dict.items():
            messages = [message for error in errors for message in error.messages]
            parts = key.split(".")
            if parts[0] == "profile" and len(parts) == 2 and parts[1] in self.profile.fields:
                self.profile.add_error(parts[1], messages)
            elif parts[0] in self._rows and len(parts) == 3 and parts[1].isdigit():
                rows = self._rows[parts[0]]
                index = int(parts[1])
                if index < len(rows):
                    form = rows[index]
                    form.add_error(parts[2] if parts[2] in form.fields else None, messages)
                else:
                    self.profile.add_error(None, messages)
            else:
                # hot_ranks / warm_ranks (the matrix), base_version (a stale edit) and the like.
                self.profile.add_error(None, messages)

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, where, message) of every error, for the summary at the top."""
        errors = [("", "", message) for message in self.profile.non_field_errors()]
        for name in self.profile.fields:
            bound = self.profile[name]
            errors += [(bound.id_for_label, str(bound.label), message) for message in bound.errors]
        for title, formset in (
            (_("Grade rule %(row)s"), self.grade_rules),
            (_("Behaviour rule %(row)s"), self.behaviour_rules),
        ):
            errors += [("", "", message) for message in formset.non_form_errors()]
            for row, form in enumerate(formset.forms, start=1):
                where = str(title) % {"row": row}
                errors += [("", where, message) for message in form.non_field_errors()]
                for name in form.fields:
                    bound = form[name]
                    errors += [
                        (bound.id_for_label, f"{where} · {bound.label}", message)
                        for message in bound.errors
                    ]
        return errors


def _formset(formset_class, rules: list[dict], prefix: str, editable: bool):
    formset = formset_class(
        initial=[dict(rule) for rule in rules],
        prefix=prefix,
        form_kwargs={"editable": editable},
    )
    if not editable:
        formset.extra = 0
    return formset


def with_added_row(data: Any, prefix: str) -> Any:
    """The posted data with one more empty row in the formset ``prefix`` (the "Add rule" button
    works without JavaScript: the page comes back with the row)."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    total = data.get(key, "")
    if total.isdigit():
        data[key] = str(int(total) + 1)
    return data

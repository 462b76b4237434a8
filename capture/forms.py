from django import forms

from capture.models import TrackingRule


class TrackingRuleForm(forms.ModelForm):
    class Meta:
        model = TrackingRule
        fields = ["pattern", "kind", "position"]
        widgets = {
            "pattern": forms.TextInput(attrs={"placeholder": "/pricing*", "autocomplete": "off"}),
            "position": forms.NumberInput(attrs={"min": 0, "max": 100000}),
        }

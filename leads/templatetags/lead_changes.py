"""How a recorded field change reads on the timeline, in the reader's language.

A ``LeadChange`` stores the model field's name and its old and new values as text: choice codes
for choice fields, display text for foreign keys. The labels are looked up when the page renders,
so a German reader sees German field names and choice labels whoever made the change.
"""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from leads.models import Lead

register = template.Library()


def _field(name: str):
    try:
        return Lead._meta.get_field(name)
    except FieldDoesNotExist:
        return None


@register.simple_tag
def change_field_label(change) -> str:
    field = _field(change.field)
    return capfirst(field.verbose_name) if field is not None else change.field


@register.simple_tag
def change_value_label(change, value: str) -> str:
    """The choice label for a choice field's code, else the stored text."""
    field = _field(change.field)
    if field is None or not value or not getattr(field, "flatchoices", None):
        return value
    return str(dict(field.flatchoices).get(value, value))

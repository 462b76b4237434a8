"""The lead list's filter controls, built in Python.

Django renders each <option> and each checkbox of a form widget through a template of its own:
on the lead list that was some 120 small templates per page, a sixth of its time at 1,000,000
leads (docs/benchmarks.md). These tags write the same markup directly.
"""

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join

register = template.Library()


def _chosen(field: BoundField) -> set[str]:
    value = field.value()
    values = value if isinstance(value, list | tuple) else [value]
    return {str(item) for item in values if item not in (None, "")}


@register.simple_tag
def filter_select(field: BoundField):
    chosen = _chosen(field)
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if str(value) in chosen else "", label)
            for value, label in field.field.widget.choices
        ),
    )
    invalid = ' aria-invalid="true"' if field.errors else ""
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>', field.html_name, field.auto_id, invalid, options
    )


@register.simple_tag
def filter_checkboxes(field: BoundField):
    chosen = _chosen(field)
    return format_html_join(
        "",
        '<label for="{0}_{1}"><input type="checkbox" name="{2}" value="{3}" id="{0}_{1}"{4}> {5}'
        "</label>",
        (
            (
                field.auto_id,
                index,
                field.html_name,
                value,
                " checked" if value in chosen else "",
                label,
            )
            for index, (value, label) in enumerate(field.field.choices)
        ),
    )

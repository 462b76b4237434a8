"""Times of the SLA in their largest unit ("22 hours", "3 days"): the queue's column stays narrow
enough for every other column to fit beside it (the default filters give two units)."""

from datetime import datetime

from django import template
from django.utils.timesince import timesince, timeuntil

register = template.Library()


@register.filter
def time_left(value: datetime | None) -> str:
    return timeuntil(value, depth=1) if value else ""


@register.filter
def time_over(value: datetime | None) -> str:
    return timesince(value, depth=1) if value else ""

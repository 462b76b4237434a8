"""Handlers of the leads app's domain signals: they only enqueue webhook work, after commit."""

from django.db import transaction

from webhooks import tasks
from webhooks.models import EventType


def on_lead_created(sender, *, lead_id: int, **kwargs) -> None:
    transaction.on_commit(
        lambda: tasks.webhook_event_fan_out.delay(EventType.LEAD_CREATED.value, lead_id)
    )


def on_lead_stage_changed(sender, *, lead_id: int, transition_id: int, **kwargs) -> None:
    transaction.on_commit(
        lambda: tasks.webhook_event_fan_out.delay(
            EventType.LEAD_STAGE_CHANGED.value, lead_id, transition_id
        )
    )

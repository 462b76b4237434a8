from celery import shared_task

from webhooks import services


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def webhook_event_fan_out(
    event_type: str,
    lead_id: int,
    transition_id: int | None = None,
    event_key: str = "",
    details: dict | None = None,
) -> None:
    """Idempotent: a second run finds the deliveries of the first (one per event and endpoint)."""
    for delivery_id in services.webhook_event_fan_out(
        event_type=event_type,
        lead_id=lead_id,
        transition_id=transition_id,
        event_key=event_key,
        details=details,
    ):
        webhook_deliver.delay(delivery_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=40)
def webhook_deliver(delivery_id: int) -> None:
    """Idempotent: an attempt claims its delivery first, so a repeated task sends nothing. The
    wait before a retry (at most WEBHOOKS_RETRY_MAX_SECONDS) is a countdown well below Redis's
    visibility timeout; the beat sweep below resumes a retry whose task was lost."""
    retry_in = services.webhook_delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        webhook_deliver.apply_async(args=[delivery_id], countdown=retry_in)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def webhook_deliveries_resume() -> None:
    for delivery_id in services.webhook_deliveries_resume():
        webhook_deliver.delay(delivery_id)

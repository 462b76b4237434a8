from celery import shared_task

from scoring import services


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=40)
def lead_rescore_fit(lead_id: int) -> None:
    """Idempotent: scoring the same lead twice writes the same values (or nothing)."""
    services.lead_rescore_fit(lead_id=lead_id)

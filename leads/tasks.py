from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from leads import event_services


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def event_keys_prune() -> int:
    """Nightly: forget idempotency keys older than the retry window (idempotent by nature)."""
    cutoff = timezone.now() - timedelta(days=settings.LEADCRM_EVENT_KEY_RETENTION_DAYS)
    return event_services.event_keys_prune(older_than=cutoff)

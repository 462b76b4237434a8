from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "leadcrm:worker-heartbeat"


@shared_task(ignore_result=True, soft_time_limit=10, time_limit=15)
def worker_heartbeat() -> None:
    """Beat sends this every 30 s; the health check reads when a worker last ran it."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=300)


@shared_task(soft_time_limit=10, time_limit=15)
def ping(value: str) -> str:
    """Round trip through broker, worker and result backend, used by the health check and tests."""
    return f"pong:{value}"

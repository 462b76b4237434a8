from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "leadcrm:worker-heartbeat"
# Kept long past the health check's threshold, so /healthz can tell "stale" from "never ran".
HEARTBEAT_TTL = 24 * 3600


@shared_task(soft_time_limit=10, time_limit=15)
def worker_heartbeat() -> None:
    """Beat sends this at start and every 30 s; /healthz reports how long ago a worker ran it."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=HEARTBEAT_TTL)


@shared_task(ignore_result=False, soft_time_limit=10, time_limit=15)
def ping(value: str) -> str:
    """Round trip through broker, worker and result backend: the tests wait for a worker with it.
    The one task whose result somebody reads (CELERY_TASK_IGNORE_RESULT is on for the rest)."""
    return f"pong:{value}"

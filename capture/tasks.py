from celery import shared_task

from capture import services


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def track_flush() -> int:
    """Every few seconds (beat): buffered page views into the database. Idempotent (see
    capture.buffer), so it needs no acks_late: a lost run is made up by the next one."""
    return services.track_flush()

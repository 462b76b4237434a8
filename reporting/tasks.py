from celery import shared_task

from reporting import rollup


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=240, time_limit=300)
def rollup_refresh() -> None:
    """Beat, every minute. Idempotent: it rewrites the rollup rows of the days changed since
    shortly before the last refresh; while another refresh runs it returns at once."""
    rollup.rollup_refresh(wait=False)

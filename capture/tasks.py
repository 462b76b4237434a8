from celery import shared_task

from capture import form_services, services


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def track_flush() -> int:
    """Every few seconds (beat): buffered page views into the database. Idempotent (see
    capture.buffer), so it needs no acks_late: a lost run is made up by the next one."""
    return services.track_flush()


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def outbound_email_send(email_id: int) -> bool:
    """A double opt-in e-mail, sent after the submission committed; retried while the mail
    server is unreachable. Idempotent: a sent e-mail is not sent again."""
    return form_services.outbound_email_send(email_id=email_id)

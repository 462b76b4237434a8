from datetime import datetime

from celery import shared_task

from sales import assignment, notifications, sla


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def leads_assign(lead_ids: list[int]) -> None:
    """New MQLs: the unowned go to reps by the rules, those with an owner get their owner's SLA
    clock. Idempotent: a lead assigned by a first run is owned and has an assignment since it
    became an MQL, and a second run skips it."""
    assignment.leads_assign(lead_ids=lead_ids)
    assignment.owned_mqls_hand_over(lead_ids=lead_ids)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def owner_change_record(
    lead_ids: list[int], owner_id: int | None, by_user_id: int | None, at: str
) -> None:
    """Idempotent: a change already recorded (or overtaken by a later one) is left alone."""
    assignment.owner_change_record(
        lead_ids=lead_ids, owner_id=owner_id, by_user_id=by_user_id, at=datetime.fromisoformat(at)
    )


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=240, time_limit=300)
def mqls_place_waiting() -> None:
    """Beat, every two minutes. Idempotent: only leads still unowned are placed, under lock."""
    assignment.mqls_place_waiting()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def sla_escalate_overdue() -> None:
    """Beat, every minute. Idempotent: an escalated clock is stamped and not escalated again."""
    sla.sla_escalate_overdue()


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
    soft_time_limit=120,
    time_limit=150,
)
def notifications_email(notification_ids: list[int]) -> None:
    """Idempotent: a notification e-mailed once is not e-mailed again (a retry after a mail
    server failure resends only the ones not sent)."""
    for notification_id in notification_ids:
        notifications.notification_email_send(notification_id=notification_id)

from celery import shared_task

from scoring import rescoring, services

# While a rule change is being saved (minutes at most), grading waits: retried with backoff.
FIT_RETRY = {
    "autoretry_for": (services.FitRulesChanging,),
    "retry_backoff": 5,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 120,
}


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=40, **FIT_RETRY)
def lead_rescore_fit(lead_id: int) -> None:
    """Idempotent: scoring the same lead twice writes the same values (or nothing)."""
    services.lead_rescore_fit(lead_id=lead_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150, **FIT_RETRY)
def company_leads_rescore_fit(company_id: int) -> None:
    """Idempotent: the leads' fit is computed from the company as it is now."""
    services.company_leads_rescore_fit(company_id=company_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=30, time_limit=40)
def event_score(event_id: int) -> None:
    """Idempotent: an event is scored once per rule (a unique ledger key)."""
    services.event_score(event_id=event_id)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def events_score(event_ids: list[int]) -> None:
    """A visitor's earlier events, once the visitor is known, oldest first (frequencies and caps
    count in the order things happened). Idempotent like event_score."""
    for event_id in event_ids:
        services.event_score(event_id=event_id)


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=1900)
def leads_refresh_decay() -> None:
    rescoring.leads_refresh_decay()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=3600, time_limit=3700)
def rescoring_run(rescoring_id: int) -> None:
    """Idempotent: a finished rescoring is left alone, an interrupted one runs again."""
    rescoring.rescoring_run(rescoring_id=rescoring_id)

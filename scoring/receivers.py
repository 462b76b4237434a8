"""Handlers of the leads app's domain signals: they only enqueue scoring work, after commit."""

from django.db import transaction

from scoring import tasks

# The lead fields grade rules can read; an edit of any other field leaves the grade as it is.
GRADED_FIELDS = frozenset({"job_title", "seniority", "country", "city", "age_band", "company"})


def on_lead_created(sender, *, lead_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.lead_rescore_fit.delay(lead_id))


def on_lead_fields_changed(sender, *, lead_id: int, fields: list[str], **kwargs) -> None:
    if GRADED_FIELDS.intersection(fields):
        transaction.on_commit(lambda: tasks.lead_rescore_fit.delay(lead_id))


# The company fields grade rules can read (as company__industry and so on).
GRADED_COMPANY_FIELDS = frozenset({"industry", "size_band", "annual_revenue"})


def on_company_fields_changed(sender, *, company_id: int, fields: list[str], **kwargs) -> None:
    if GRADED_COMPANY_FIELDS.intersection(fields):
        transaction.on_commit(lambda: tasks.company_leads_rescore_fit.delay(company_id))


def on_event_recorded(sender, *, event_id: int, lead_id: int | None, **kwargs) -> None:
    if lead_id is not None:
        transaction.on_commit(lambda: tasks.event_score.delay(event_id))


def on_visitor_linked(sender, *, lead_id: int, event_ids: list[int], **kwargs) -> None:
    transaction.on_commit(lambda: tasks.events_score.delay(event_ids))


# Events per scoring task when a batch arrives (tracking flush, events API): small enough that
# a task stays well inside its time limit.
EVENTS_SCORE_CHUNK = 200


def on_events_recorded(sender, *, lead_event_ids: list[int], **kwargs) -> None:
    chunks = [
        lead_event_ids[start : start + EVENTS_SCORE_CHUNK]
        for start in range(0, len(lead_event_ids), EVENTS_SCORE_CHUNK)
    ]
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: tasks.events_score.delay(chunk))

"""Handlers of the leads app's domain signals: they only enqueue sales work, after commit."""

from django.db import transaction

from leads.lifecycle import Stage
from sales import tasks

# Leads per assignment task when many become MQLs at once (a rescoring): one task per chunk.
ASSIGN_CHUNK = 500


def on_lead_stage_changed(sender, *, lead_id: int, to_stage: str, **kwargs) -> None:
    if to_stage == Stage.MQL and not kwargs.get("in_bulk"):
        transaction.on_commit(lambda: tasks.leads_assign.delay([lead_id]))


def on_leads_stage_changed(sender, *, lead_ids: list[int], to_stage: str, **kwargs) -> None:
    if to_stage != Stage.MQL:
        return
    for start in range(0, len(lead_ids), ASSIGN_CHUNK):
        chunk = lead_ids[start : start + ASSIGN_CHUNK]
        transaction.on_commit(lambda chunk=chunk: tasks.leads_assign.delay(chunk))


def on_leads_owner_changed(
    sender, *, lead_ids: list[int], owner_id: int | None, by_user_id: int | None, at, **kwargs
) -> None:
    stamp = at.isoformat()
    for start in range(0, len(lead_ids), ASSIGN_CHUNK):
        chunk = lead_ids[start : start + ASSIGN_CHUNK]
        transaction.on_commit(
            lambda chunk=chunk: tasks.owner_change_record.delay(chunk, owner_id, by_user_id, stamp)
        )

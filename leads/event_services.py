"""Every write of behaviour events: one at a time (forms, the API, scoring's tests), in batches
set-based (website tracking, the events API), a visitor's anonymous events given to the lead it
turned out to be, and the idempotency keys that make retries harmless."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import signals
from leads.models import Campaign, Event, EventKey, EventKind, Lead, Visitor


@transaction.atomic
def event_record(
    *,
    kind: str,
    lead: Lead | None = None,
    visitor_id: str = "",
    url: str = "",
    asset: str = "",
    campaign: Campaign | None = None,
    occurred_at: datetime | None = None,
    properties: dict | None = None,
    idempotency_key: str = "",
) -> Event | None:
    """Store one behaviour event; None when an event with this idempotency key is already stored
    (a retried pixel, click or API batch). Sends ``event_recorded`` after commit."""
    event = Event(
        lead=lead,
        visitor_id=visitor_id,
        kind=kind,
        url=url,
        asset=asset,
        campaign=campaign,
        occurred_at=occurred_at or timezone.now(),
        properties=properties or {},
    )
    if lead is None and not visitor_id:
        raise ValidationError({"visitor_id": _("An event belongs to a lead or a visitor.")})
    event.full_clean(validate_constraints=False)
    try:
        # One savepoint for the event and its key: a key stored before (a retry, or a concurrent
        # duplicate that committed first) takes this event back with it.
        with transaction.atomic():
            event.save(force_insert=True)
            if idempotency_key:
                EventKey.objects.create(key=idempotency_key, event=event)
    except IntegrityError:
        if idempotency_key and EventKey.objects.filter(key=idempotency_key).exists():
            return None
        raise
    transaction.on_commit(
        lambda: signals.event_recorded.send(
            sender=Event, event_id=event.pk, lead_id=event.lead_id, kind=event.kind
        )
    )
    return event


@transaction.atomic
def visitor_link(*, visitor_id: str, lead_id: int) -> list[int]:
    """Attribute a visitor's anonymous events to the lead the visitor turned out to be (they filled
    in a form); returns the event ids, which scoring then scores retroactively."""
    if not visitor_id:
        return []
    # The visitor row first: its lock orders this link and a concurrent events_record_bulk of
    # the same visitor, so no event of it is left anonymous whichever commits first.
    now = timezone.now()
    Visitor.objects.bulk_create(
        [Visitor(visitor_id=visitor_id, first_seen=now, last_seen=now, lead_id=lead_id)],
        update_conflicts=True,
        unique_fields=["visitor_id"],
        update_fields=["lead"],
    )
    event_ids = list(
        Event.objects.filter(visitor_id=visitor_id, lead__isnull=True)
        .order_by("occurred_at", "id")
        .values_list("id", flat=True)
    )
    if event_ids:
        Event.objects.filter(pk__in=event_ids, lead__isnull=True).update(lead_id=lead_id)
        transaction.on_commit(
            lambda: signals.visitor_linked.send(sender=Event, lead_id=lead_id, event_ids=event_ids)
        )
    return event_ids


def event_keys_prune(*, older_than: datetime) -> int:
    """Forget idempotency keys past the retry window; returns how many were removed."""
    deleted, _counts = EventKey.objects.filter(created_at__lt=older_than).delete()
    return deleted


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventRow:
    """One event of a batch for ``events_record_bulk``, validated by the caller (the tracking
    intake, the events API): a known kind, a lead id or a visitor id, lengths within the columns.
    """

    kind: str
    occurred_at: datetime
    lead_id: int | None = None
    visitor_id: str = ""
    url: str = ""
    asset: str = ""
    campaign_id: int | None = None
    properties: dict = dataclasses.field(default_factory=dict)
    idempotency_key: str = ""


# Rows per INSERT statement (PostgreSQL takes at most 65,535 parameters in one).
BULK_CHUNK = 1000


def events_record_bulk(*, events: Sequence[EventRow]) -> list[int | None]:
    """Store a batch of events set-based: a constant number of statements whatever its size.

    Returns the new event ids in the batch's order, ``None`` for an event whose idempotency key is
    already stored (or repeats earlier in the batch). A visitor's events belong to its lead once
    the visitor is identified (``visitor_link``); the visitors seen are kept in ``Visitor``
    (first and last seen, first and last campaign). Sends ``events_recorded`` once, after commit.
    """
    for row in events:
        if row.kind not in EventKind.values or (row.lead_id is None and not row.visitor_id):
            raise ValueError(f"Not a valid event row: {row!r}")
    with transaction.atomic():
        for attempt in range(3):
            try:
                with transaction.atomic():
                    ids, lead_event_ids = _events_insert(events)
                break
            except IntegrityError:
                # A concurrent batch committed one of these keys first: again, now skipping it.
                keys = [row.idempotency_key for row in events if row.idempotency_key]
                if attempt == 2 or not EventKey.objects.filter(key__in=keys).exists():
                    raise
        new_ids = [event_id for event_id in ids if event_id is not None]
        if new_ids:
            transaction.on_commit(
                lambda: signals.events_recorded.send(
                    sender=Event, event_ids=new_ids, lead_event_ids=lead_event_ids
                )
            )
    return ids


def _events_insert(events: Sequence[EventRow]) -> tuple[list[int | None], list[int]]:
    keys = [row.idempotency_key for row in events if row.idempotency_key]
    seen = set(EventKey.objects.filter(key__in=keys).values_list("key", flat=True) if keys else ())
    fresh: list[tuple[int, EventRow]] = []
    for index, row in enumerate(events):
        if row.idempotency_key:
            if row.idempotency_key in seen:
                continue
            seen.add(row.idempotency_key)
        fresh.append((index, row))
    lead_of_visitor = _visitors_upsert([row for _index, row in fresh if row.visitor_id])
    created = Event.objects.bulk_create(
        [
            Event(
                lead_id=row.lead_id or lead_of_visitor.get(row.visitor_id),
                visitor_id=row.visitor_id,
                kind=row.kind,
                url=row.url,
                asset=row.asset,
                campaign_id=row.campaign_id,
                occurred_at=row.occurred_at,
                properties=row.properties,
            )
            for _index, row in fresh
        ],
        batch_size=BULK_CHUNK,
    )
    EventKey.objects.bulk_create(
        [
            EventKey(key=row.idempotency_key, event_id=event.pk)
            for (_index, row), event in zip(fresh, created, strict=True)
            if row.idempotency_key
        ],
        batch_size=BULK_CHUNK,
    )
    ids: list[int | None] = [None] * len(events)
    for (index, _row), event in zip(fresh, created, strict=True):
        ids[index] = event.pk
    lead_events = sorted(
        (event for event in created if event.lead_id is not None),
        key=lambda event: (event.occurred_at, event.pk),
    )
    return ids, [event.pk for event in lead_events]


def _visitors_upsert(rows: Sequence[EventRow]) -> dict[str, int | None]:
    """Insert or refresh the visitors of ``rows`` (first and last seen, first campaign: the
    campaign of its earliest event that came with one, last campaign: of its latest) in one
    statement per chunk; returns each visitor's lead, None while it is anonymous. Only
    ``visitor_link`` sets the lead.

    A batch's last campaign replaces the stored one unless the whole batch is older than the
    visitor's last hit stored (a late retry does not move it back to an earlier campaign).

    ``INSERT … ON CONFLICT DO UPDATE`` locks each visitor row, which orders this batch and a
    concurrent ``visitor_link`` of the same visitor; rows go in visitor id order so that two
    batches never wait on each other crosswise.
    """
    seen: dict[str, list] = {}
    for row in sorted(rows, key=lambda row: row.occurred_at):
        entry = seen.get(row.visitor_id)
        if entry is None:
            seen[row.visitor_id] = [
                row.occurred_at,
                row.occurred_at,
                row.campaign_id,
                row.campaign_id,
            ]
            continue
        entry[1] = row.occurred_at
        entry[2] = entry[2] or row.campaign_id
        entry[3] = row.campaign_id or entry[3]
    if not seen:
        return {}
    table = connection.ops.quote_name(Visitor._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    visitors = sorted(seen.items())
    leads: dict[str, int | None] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(visitors), BULK_CHUNK):
            chunk = visitors[start : start + BULK_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params = [
                value
                for visitor_id, (first, last, first_campaign, last_campaign) in chunk
                for value in (visitor_id, adapt(first), adapt(last), first_campaign, last_campaign)
            ]
            cursor.execute(
                f"INSERT INTO {table} "
                f"(visitor_id, first_seen, last_seen, first_campaign_id, last_campaign_id) "
                f"VALUES {values} ON CONFLICT (visitor_id) DO UPDATE SET "
                f"first_campaign_id = CASE WHEN {table}.first_campaign_id IS NULL "
                f"OR (excluded.first_campaign_id IS NOT NULL "
                f"AND excluded.first_seen < {table}.first_seen) "
                f"THEN COALESCE(excluded.first_campaign_id, {table}.first_campaign_id) "
                f"ELSE {table}.first_campaign_id END, "
                f"last_campaign_id = CASE WHEN excluded.last_campaign_id IS NOT NULL "
                f"AND ({table}.last_campaign_id IS NULL "
                f"OR excluded.last_seen >= {table}.last_seen) "
                f"THEN excluded.last_campaign_id ELSE {table}.last_campaign_id END, "
                f"first_seen = CASE WHEN excluded.first_seen < {table}.first_seen "
                f"THEN excluded.first_seen ELSE {table}.first_seen END, "
                f"last_seen = CASE WHEN excluded.last_seen > {table}.last_seen "
                f"THEN excluded.last_seen ELSE {table}.last_seen END "
                f"RETURNING visitor_id, lead_id",
                params,
            )
            leads.update(cursor.fetchall())
    return leads

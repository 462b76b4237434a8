"""Writes of the capture app: tracking rules, and the flush of buffered page views."""

import json
import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.text import slugify

from capture.buffer import get_buffer
from capture.intake import UTM_FIELDS
from capture.models import TrackingRule
from leads.event_services import EventRow, events_record_bulk
from leads.models import Campaign, EventKind

logger = logging.getLogger(__name__)

# Longer than the flush task's hard time limit: a lock outlives no flush that still runs.
FLUSH_LOCK_SECONDS = 180


@transaction.atomic
def tracking_rule_create(*, pattern: str, kind: str, position: int) -> TrackingRule:
    rule = TrackingRule(pattern=pattern.strip(), kind=kind, position=position)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def tracking_rule_update(*, rule_id: int, pattern: str, kind: str, position: int) -> TrackingRule:
    rule = TrackingRule.objects.select_for_update().get(pk=rule_id)
    rule.pattern, rule.kind, rule.position = pattern.strip(), kind, position
    rule.full_clean()
    rule.save(update_fields=["pattern", "kind", "position"])
    return rule


@transaction.atomic
def tracking_rule_delete(*, rule_id: int) -> None:
    TrackingRule.objects.filter(pk=rule_id).delete()


def track_flush(*, batch_size: int = 2000, max_batches: int = 50) -> int:
    """Store buffered page views in batches; returns how many new events were stored.

    Idempotent: a batch is acknowledged only after its transaction committed, and a batch stored
    before a crash is stored again without duplicates (each record has its idempotency key).
    Returns 0 at once while another flush holds the lock.
    """
    buffer = get_buffer()
    stored = 0
    with buffer.lock(timeout=FLUSH_LOCK_SECONDS) as held:
        if not held:
            return 0
        for _batch in range(max_batches):
            records = buffer.claim(batch_size)
            if not records:
                break
            stored += _store(records)
            buffer.ack()
    return stored


def _store(records: list[bytes]) -> int:
    rules = [(rule.compiled(), rule.kind) for rule in TrackingRule.objects.all()]
    campaigns = _campaigns_by_utm()
    rows = []
    for raw in records:
        try:
            record = json.loads(raw)
            rows.append(_event_row(record, rules=rules, campaigns=campaigns))
        except (ValueError, KeyError, TypeError):
            # Only /t/e writes the buffer, after validating: a record it cannot read is a bug.
            logger.exception("Unreadable tracking record skipped: %r", raw[:200])
    ids = events_record_bulk(events=rows)
    return sum(1 for event_id in ids if event_id is not None)


def _event_row(record: dict, *, rules: list, campaigns: dict[str, int]) -> EventRow:
    path = urlsplit(record["url"]).path.lower() or "/"
    kind = next((kind for pattern, kind in rules if pattern.match(path)), EventKind.PAGE_VIEW)
    utm_campaign = record.get("utm_campaign", "")
    campaign_id = (
        campaigns.get(utm_campaign.casefold()) or campaigns.get(slugify(utm_campaign))
        if utm_campaign
        else None
    )
    properties = {
        name: record[name] for name in ("referrer", "title", *UTM_FIELDS) if record.get(name)
    }
    return EventRow(
        kind=kind,
        visitor_id=record["visitor_id"],
        url=record["url"],
        campaign_id=campaign_id,
        occurred_at=datetime.fromtimestamp(record["at"], tz=UTC),
        properties=properties,
        idempotency_key=f"t:{record['key']}",
    )


def _campaigns_by_utm() -> dict[str, int]:
    """``utm_campaign`` values that name a campaign: its name in any case, or its slug
    ("Webinar KI 2026" is found as ``webinar ki 2026`` and as ``webinar-ki-2026``)."""
    lookup: dict[str, int] = {}
    for campaign_id, name in Campaign.objects.order_by("-id").values_list("id", "name"):
        lookup[slugify(name)] = campaign_id
        lookup[name.casefold()] = campaign_id
    return lookup

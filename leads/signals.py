"""Domain signals of the leads app, sent after the transaction commits.

Upper apps (scoring, nurturing, reporting) listen to these; a receiver does nothing but enqueue a
Celery task. The leads app never imports them.
"""

from django.dispatch import Signal

# kwargs: lead_id
lead_created = Signal()
# kwargs: lead_id, from_stage, to_stage, transition_id; in_bulk=True when part of a bulk move
# (which also sends leads_stage_changed once: a receiver that works in batches listens there).
lead_stage_changed = Signal()
# kwargs: lead_ids, to_stage, by_rule. Once per bulk move (leads_transition_by_rule), after the
# per-lead signals.
leads_stage_changed = Signal()
# kwargs: lead_id, fields (the names of the lead's fields that changed, e.g. ["job_title"])
lead_fields_changed = Signal()
# kwargs: company_id, fields (the names of the company's fields that changed, e.g. ["industry"])
company_fields_changed = Signal()
# kwargs: lead_ids, owner_id (None: unassigned), by_user_id (None: no person), at (when). Once per
# owner change made here (lead form and API, the lead list's bulk assign, a claim, a rep taking
# the MQL they qualify): one signal for a whole batch, which all got the same owner.
leads_owner_changed = Signal()
# kwargs: event_id, lead_id (None for an anonymous visitor), kind
event_recorded = Signal()
# kwargs: lead_id, event_ids (the visitor's anonymous events now attributed to the lead)
visitor_linked = Signal()
# kwargs: event_ids (every event a batch stored, in the batch's order), lead_event_ids (those that
# belong to a lead, oldest first: what scoring scores). Sent once per batch, after commit.
events_recorded = Signal()

"""The SLA on assigned MQLs: the clock stops when the rep accepts or rejects the lead; MQLs
nobody answered in time are escalated once to their team's managers."""

from collections import defaultdict
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leadcrm.roles import Role
from leads.lifecycle import Stage
from sales import notifications
from sales.models import Assignment, Notification, Team


def sla_close(*, lead_id: int, now: datetime | None = None) -> int:
    """The rep accepted or rejected the MQL: its clock stops."""
    return Assignment.objects.filter(lead_id=lead_id, sla_closed_at__isnull=True).update(
        sla_closed_at=now or timezone.now()
    )


def overdue_assignments(now: datetime):
    """Running clocks past due whose lead is still the same MQL (it has not left the stage
    since: a lead that comes back as an MQL later starts a new clock) with the same owner."""
    return Assignment.objects.filter(
        sla_closed_at__isnull=True,
        escalated_at__isnull=True,
        sla_due_at__lte=now,
        lead__stage=Stage.MQL,
        lead__owner_id=F("owner_id"),
        at__gte=F("lead__stage_changed_at"),
    )


@transaction.atomic
def sla_escalate_overdue(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Escalate each overdue MQL once to its team's managers (every active sales manager when
    the team has none): a notification, and an e-mail to those who opted in. The rows are
    claimed with SKIP LOCKED and stamped ``escalated_at``, so a repeated or concurrent run
    escalates nothing twice. Returns the escalated assignments' ids."""
    now = now or timezone.now()
    claimed = list(
        overdue_assignments(now)
        .order_by("sla_due_at", "id")
        .select_for_update(of=("self",), skip_locked=True)
        .values_list("pk", "lead_id", "team_id")[:limit]
    )
    if not claimed:
        return []
    ids = [pk for pk, _lead, _team in claimed]
    Assignment.objects.filter(pk__in=ids).update(escalated_at=now)
    managers: dict[int | None, list[int]] = defaultdict(list)
    for team_id, user_id in Team.managers.through.objects.filter(
        team_id__in={team for _pk, _lead, team in claimed if team},
        user__is_active=True,
    ).values_list("team_id", "user_id"):
        managers[team_id].append(user_id)
    everyone = None
    rows = []
    for pk, lead_id, team_id in claimed:
        recipients = managers.get(team_id)
        if not recipients:
            if everyone is None:
                everyone = list(
                    get_user_model()
                    .objects.filter(is_active=True, groups__name=Role.SALES_MANAGER)
                    .values_list("pk", flat=True)
                )
            recipients = everyone
        rows.extend(
            Notification(
                recipient_id=user_id,
                lead_id=lead_id,
                assignment_id=pk,
                kind=Notification.Kind.SLA_OVERDUE,
                created_at=now,
            )
            for user_id in recipients
        )
    notifications.notifications_create(rows)
    return ids

"""In-app notifications (the counter in the header) and the e-mails that go with them for
users who opted in (RepProfile.notify_by_email). E-mails leave after commit, from a Celery task,
at most once per notification."""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from sales.models import Assignment, Notification

logger = logging.getLogger(__name__)

# Notifications per e-mail task: one task for a whole assignment batch, in chunks of this size.
EMAIL_CHUNK = 200


def _email_later(notification_ids: Sequence[int]) -> None:
    if not notification_ids:
        return
    from sales import tasks  # the task module imports this one

    ids = list(notification_ids)
    for start in range(0, len(ids), EMAIL_CHUNK):
        chunk = ids[start : start + EMAIL_CHUNK]
        transaction.on_commit(lambda chunk=chunk: tasks.notifications_email.delay(chunk))


def _opted_in(notifications: Iterable[Notification]) -> list[int]:
    return list(
        Notification.objects.filter(
            pk__in=[n.pk for n in notifications if n.pk],
            recipient__rep_profile__notify_by_email=True,
            emailed_at__isnull=True,
        ).values_list("pk", flat=True)
    )


def notify_assigned(
    *, assignments: Sequence[Assignment], kind: str = Notification.Kind.ASSIGNED
) -> list[Notification]:
    """Tell each new owner about their lead (``kind`` MQL: about their lead that became an MQL),
    and e-mail those who opted in."""
    created = Notification.objects.bulk_create(
        Notification(
            recipient_id=assignment.owner_id,
            lead_id=assignment.lead_id,
            assignment=assignment,
            kind=kind,
            created_at=assignment.at,
        )
        for assignment in assignments
    )
    _email_later(_opted_in(created))
    return created


def notify_taken(*, taken: Sequence[tuple[Assignment, int]]) -> None:
    """Tell each previous owner that someone else gave their lead to another: ``taken`` pairs
    the new assignment (its owner and ``by_user``) with the previous owner's id. In-app only
    (the e-mail wish covers leads coming in, not going); one per assignment and recipient."""
    Notification.objects.bulk_create(
        (
            Notification(
                recipient_id=previous_owner_id,
                lead_id=assignment.lead_id,
                assignment=assignment,
                kind=Notification.Kind.REASSIGNED,
                created_at=assignment.at,
            )
            for assignment, previous_owner_id in taken
        ),
        ignore_conflicts=True,
    )


def notifications_create(rows: Sequence[Notification]) -> None:
    """Store ``rows``; one that exists already (same assignment, kind, recipient) is skipped."""
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(n.assignment_id, n.kind) for n in rows}
    stored = Notification.objects.filter(
        assignment_id__in={assignment for assignment, _kind in keys},
        kind__in={kind for _assignment, kind in keys},
        recipient__rep_profile__notify_by_email=True,
        emailed_at__isnull=True,
    ).values_list("pk", flat=True)
    _email_later(list(stored))


def notifications_mark_read(
    *, user: AbstractBaseUser, ids: Sequence[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's unread notifications read (only ``ids`` when given); returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now or timezone.now())


def _message(notification: Notification) -> tuple[str, str]:
    lead = notification.lead
    link = settings.LEADCRM_PUBLIC_URL + reverse("leads:detail", args=[lead.pk])
    context = {"notification": notification, "lead": lead, "link": link}
    subject = render_to_string(f"sales/email/{notification.kind}_subject.txt", context)
    body = render_to_string(f"sales/email/{notification.kind}_body.txt", context)
    return " ".join(subject.split()), body


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification to its recipient, once (a sent one is not sent again); True when
    this call sent it. The recipient's language is the site's default (German or English)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "lead", "assignment", "assignment__owner")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        recipient = notification.recipient
        if not recipient.email or notification.lead is None:
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            return False
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _message(notification)
        try:
            send_mail(subject, body, None, [recipient.email])
        except OSError as exc:  # smtplib's errors are OSErrors
            logger.warning("notification e-mail %s not sent: %s", notification.pk, exc)
            raise
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
        return True

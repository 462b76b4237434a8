"""Every write of sales work: qualification, acceptance and rejection of MQLs, activities, tasks.

Stage changes go through leads.services.lead_transition (the one lifecycle service); these
functions add what sales records around them, in the same transaction.
"""

from datetime import datetime
from typing import TypedDict, Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leadcrm.roles import Role, has_role
from leads.exceptions import LeadChangedMeanwhile
from leads.lifecycle import Stage
from leads.models import Activity, Lead, StageTransition
from leads.permissions import can_assign_owner
from leads.selectors import lead_visible_to
from leads.services import lead_transition
from sales.exceptions import NotAnMql, ReasonInUse
from sales.models import (
    BANT_FIELDS,
    CRITERIA_LABELS,
    MEDDIC_FIELDS,
    Qualification,
    QualificationPolicy,
    Rejection,
    RejectionReason,
)
from sales.selectors import qualification_policy
from sales.sla import sla_close

TEXT_MAX = 2000
CRITERIA = [*BANT_FIELDS, *MEDDIC_FIELDS]


class QualificationFields(TypedDict, total=False):
    budget: str
    budget_confirmed: bool
    authority: str
    authority_confirmed: bool
    need: str
    need_confirmed: bool
    timing: str
    timing_confirmed: bool
    metrics: str
    metrics_confirmed: bool
    economic_buyer: str
    economic_buyer_confirmed: bool
    decision_criteria: str
    decision_criteria_confirmed: bool
    decision_process: str
    decision_process_confirmed: bool
    identified_pain: str
    identified_pain_confirmed: bool
    champion: str
    champion_confirmed: bool


QUALIFICATION_FIELDS = tuple(QualificationFields.__annotations__)


def _lock_lead(*, lead_id: int, by_user: AbstractBaseUser) -> Lead:
    """The lead row, locked, if ``by_user`` may (still) see it."""
    lead = (
        lead_visible_to(by_user)
        .select_for_update(of=("self",))
        .select_related("first_campaign")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise LeadChangedMeanwhile(lead_id=lead_id)
    return lead


def _check_qualification_fields(fields: dict) -> None:
    unknown = set(fields).difference(QUALIFICATION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    errors = {}
    for name, value in fields.items():
        if not name.endswith("_confirmed") and len(value) > TEXT_MAX:
            errors[name] = _("Write at most %(max)d characters.") % {"max": TEXT_MAX}
    if errors:
        raise ValidationError(errors)


def _check_confirmed_have_values(qualification: Qualification) -> None:
    errors = {
        name: _("Write down what was confirmed for “%(criterion)s”.")
        % {"criterion": CRITERIA_LABELS[name]}
        for name in CRITERIA
        if getattr(qualification, f"{name}_confirmed") and not getattr(qualification, name).strip()
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def qualification_save(
    *, lead_id: int, by_user: AbstractBaseUser, **fields: Unpack[QualificationFields]
) -> Qualification:
    """Store what sales found out about a lead; fields left out stay as they are. A criterion
    marked confirmed needs its value. No write (and no new "last changed") when nothing differs."""
    _check_qualification_fields(dict(fields))
    lead = _lock_lead(lead_id=lead_id, by_user=by_user)
    qualification = Qualification.objects.filter(lead=lead).first() or Qualification(lead=lead)
    changed = []
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(qualification, name) != value:
            setattr(qualification, name, value)
            changed.append(name)
    _check_confirmed_have_values(qualification)
    if not changed and qualification.pk is not None:
        return qualification
    qualification.updated_at = timezone.now()
    qualification.updated_by = by_user
    if qualification.pk is None:
        qualification.save(force_insert=True)
    else:
        qualification.save(update_fields=[*changed, "updated_at", "updated_by"])
    return qualification


def missing_for_acceptance(
    qualification: Qualification | None, policy: QualificationPolicy
) -> dict[str, str]:
    """The criteria that stand between this qualification and acceptance, each with the
    message to show beside it; empty when the policy's minimum holds."""
    missing: dict[str, str] = {}
    for names, minimum, total, message in (
        (
            BANT_FIELDS,
            policy.bant_minimum,
            len(BANT_FIELDS),
            _(
                "“%(criterion)s” is not confirmed. Accepting needs %(minimum)d of %(total)d "
                "BANT criteria confirmed; %(count)d are."
            ),
        ),
        (
            MEDDIC_FIELDS,
            policy.meddic_minimum,
            len(MEDDIC_FIELDS),
            _(
                "“%(criterion)s” is not confirmed. Accepting needs %(minimum)d of %(total)d "
                "MEDDIC criteria confirmed; %(count)d are."
            ),
        ),
    ):
        unconfirmed = [
            name
            for name in names
            if qualification is None or not getattr(qualification, f"{name}_confirmed")
        ]
        count = total - len(unconfirmed)
        if count < minimum:
            for name in unconfirmed:
                missing[f"{name}_confirmed"] = message % {
                    "criterion": CRITERIA_LABELS[name],
                    "minimum": minimum,
                    "total": total,
                    "count": count,
                }
    return missing


@transaction.atomic
def qualification_accept(
    *, lead_id: int, by_user: AbstractBaseUser, **fields: Unpack[QualificationFields]
) -> StageTransition:
    """Save ``fields`` (if any) and accept the MQL: it becomes an SQL, and a rep who accepts an
    unassigned MQL takes it. Refused, with nothing written, when the configured minimum of
    confirmed criteria does not hold: the error names each criterion still unconfirmed."""
    lead = _lock_lead(lead_id=lead_id, by_user=by_user)
    if lead.stage != Stage.MQL:
        raise NotAnMql(lead_id=lead_id, stage=lead.stage)
    if fields:
        qualification = qualification_save(lead_id=lead_id, by_user=by_user, **fields)
    else:
        qualification = Qualification.objects.filter(lead=lead).first()
    missing = missing_for_acceptance(qualification, qualification_policy())
    if missing:
        raise ValidationError(missing)
    sla_close(lead_id=lead_id)
    return lead_transition(
        lead_id=lead_id,
        to_stage=Stage.SQL,
        by_user=by_user,
        reason=_("Accepted: BANT %(bant)d/4, MEDDIC %(meddic)d/6 confirmed.")
        % {
            "bant": qualification.bant_confirmed if qualification else 0,
            "meddic": qualification.meddic_confirmed if qualification else 0,
        },
    )


@transaction.atomic
def qualification_reject(
    *,
    lead_id: int,
    by_user: AbstractBaseUser,
    reason: RejectionReason,
    to_stage: str = Stage.NURTURE,
    note: str = "",
) -> Rejection:
    """Send an MQL back to nurture or disqualify it, with a reason from the managed list (and a
    note where the reason asks for one). The stage history carries the reason as text; the
    Rejection row keeps it countable per campaign."""
    note = note.strip()
    errors = {}
    if to_stage not in Rejection.ToStage.values:
        errors["to_stage"] = _("Send the lead to nurture or disqualify it.")
    if not reason.active:
        errors["reason"] = _("This reason is no longer in use; choose another.")
    if reason.requires_note and not note:
        errors["note"] = _("Explain the reason “%(reason)s” in a note.") % {"reason": reason.label}
    if len(note) > TEXT_MAX:
        errors["note"] = _("Write at most %(max)d characters.") % {"max": TEXT_MAX}
    if errors:
        raise ValidationError(errors)
    lead = _lock_lead(lead_id=lead_id, by_user=by_user)
    if lead.stage != Stage.MQL:
        raise NotAnMql(lead_id=lead_id, stage=lead.stage)
    sla_close(lead_id=lead_id)
    transition = lead_transition(
        lead_id=lead_id,
        to_stage=to_stage,
        by_user=by_user,
        reason=f"{reason.label}: {note}" if note else reason.label,
    )
    return Rejection.objects.create(
        lead=lead,
        reason=reason,
        note=note,
        to_stage=to_stage,
        campaign=lead.first_campaign,
        transition=transition,
        by_user=by_user,
        at=transition.at,
    )


@transaction.atomic
def qualification_policy_update(
    *, by_user: AbstractBaseUser, bant_minimum: int, meddic_minimum: int
) -> QualificationPolicy:
    errors = {}
    if not 0 <= bant_minimum <= len(BANT_FIELDS):
        errors["bant_minimum"] = _("Enter a number from 0 to 4.")
    if not 0 <= meddic_minimum <= len(MEDDIC_FIELDS):
        errors["meddic_minimum"] = _("Enter a number from 0 to 6.")
    if errors:
        raise ValidationError(errors)
    policy = QualificationPolicy.objects.select_for_update().filter(pk=1).first()
    if policy is None:
        policy = QualificationPolicy(pk=1)
    policy.bant_minimum = bant_minimum
    policy.meddic_minimum = meddic_minimum
    policy.updated_at = timezone.now()
    policy.updated_by = by_user
    policy.save()
    return policy


def _save_reason(reason: RejectionReason) -> RejectionReason:
    reason.name = reason.name.strip()
    reason.name_de = reason.name_de.strip()
    if not reason.code:
        reason.code = slugify(reason.name)[:40]
    reason.full_clean(validate_unique=False)
    if RejectionReason.objects.filter(code=reason.code).exclude(pk=reason.pk).exists():
        raise ValidationError({"code": _("Another reason already has this code.")})
    reason.save()
    return reason


@transaction.atomic
def rejection_reason_create(
    *,
    name: str,
    name_de: str = "",
    code: str = "",
    requires_note: bool = False,
    active: bool = True,
    position: int = 100,
) -> RejectionReason:
    return _save_reason(
        RejectionReason(
            name=name,
            name_de=name_de,
            code=code,
            requires_note=requires_note,
            active=active,
            position=position,
        )
    )


class ReasonFields(TypedDict, total=False):
    name: str
    name_de: str
    code: str
    requires_note: bool
    active: bool
    position: int


@transaction.atomic
def rejection_reason_update(*, reason_id: int, **fields: Unpack[ReasonFields]) -> RejectionReason:
    reason = RejectionReason.objects.select_for_update().get(pk=reason_id)
    for name, value in fields.items():
        setattr(reason, name, value)
    return _save_reason(reason)


@transaction.atomic
def rejection_reason_delete(*, reason_id: int) -> None:
    """Delete a reason no rejection uses; one in use is deactivated instead (ReasonInUse)."""
    reason = RejectionReason.objects.select_for_update().get(pk=reason_id)
    used = reason.rejections.count()
    if used:
        raise ReasonInUse(reason_id=reason_id, count=used)
    reason.delete()


# Activities and tasks. The Activity model lives in leads, because the lead's timeline (a leads
# selector) shows it; sales writes it.

LOG_KINDS = [Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.EMAIL, Activity.Kind.NOTE]


def _check_text(*, subject: str, body: str, subject_required: bool) -> dict[str, str]:
    errors = {}
    if subject_required and not subject:
        errors["subject"] = _("Enter a subject.")
    if len(subject) > 200:
        errors["subject"] = _("Write at most %(max)d characters.") % {"max": 200}
    if len(body) > 10_000:
        errors["body"] = _("Write at most %(max)d characters.") % {"max": 10_000}
    return errors


@transaction.atomic
def activity_log(
    *, lead_id: int, by_user: AbstractBaseUser, kind: str, subject: str = "", body: str = ""
) -> Activity:
    """Record a call, meeting, e-mail or note on a lead's timeline. Without a subject, the kind
    names it ("Call")."""
    subject, body = subject.strip(), body.strip()
    errors = _check_text(subject=subject, body=body, subject_required=False)
    if kind not in LOG_KINDS:
        errors["kind"] = _("Log a call, meeting, e-mail or note.")
    if not subject and not body and "kind" not in errors:
        errors["body"] = _("Write what happened.")
    if errors:
        raise ValidationError(errors)
    lead = _lock_lead(lead_id=lead_id, by_user=by_user)
    return Activity.objects.create(
        lead=lead,
        kind=kind,
        subject=subject or str(Activity.Kind(kind).label),
        body=body,
        author=by_user,
        created_at=timezone.now(),
    )


def _is_task_assignee(user: Model | None) -> bool:
    return (
        user is not None and user.is_active and has_role(user, Role.SALES_REP, Role.SALES_MANAGER)
    )


@transaction.atomic
def task_create(
    *,
    lead_id: int,
    by_user: AbstractBaseUser,
    subject: str,
    due_at: datetime,
    assignee: AbstractBaseUser | None = None,
    body: str = "",
) -> Activity:
    """A to-do on a lead for a rep or manager: the creator by default, else the lead's owner.
    A sales rep may give tasks only to themselves."""
    subject, body = subject.strip(), body.strip()
    errors = _check_text(subject=subject, body=body, subject_required=True)
    if due_at is None or timezone.is_naive(due_at):
        errors["due_at"] = _("Enter the date and time the task is due.")
    lead = _lock_lead(lead_id=lead_id, by_user=by_user)
    if assignee is None:
        assignee = by_user if _is_task_assignee(by_user) else lead.owner
    if not _is_task_assignee(assignee):
        errors["assignee"] = _("Tasks go to active sales reps and sales managers.")
    elif not can_assign_owner(by_user, assignee):
        errors["assignee"] = _("You may only give tasks to yourself.")
    if errors:
        raise ValidationError(errors)
    return Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.TASK,
        subject=subject,
        body=body,
        due_at=due_at,
        assignee=assignee,
        author=by_user,
        created_at=timezone.now(),
    )


@transaction.atomic
def task_set_done(*, activity_id: int, by_user: AbstractBaseUser, done: bool = True) -> Activity:
    """Tick a task off (or reopen it). Idempotent: ticking a done task keeps its first time."""
    task = (
        Activity.objects.select_for_update(of=("self",))
        .select_related("lead", "assignee")
        .filter(pk=activity_id, lead__in=lead_visible_to(by_user))
        .first()
    )
    if task is None:
        raise Activity.DoesNotExist
    if task.kind != Activity.Kind.TASK:
        raise ValidationError({"kind": _("Only tasks can be ticked off.")})
    if done == (task.done_at is not None):
        return task
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done_at"])
    return task

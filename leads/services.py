"""Every write to leads, companies and their history goes through these functions."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import signals
from leads.exceptions import TransitionNotAllowed
from leads.lifecycle import REASON_REQUIRED, Stage, allowed_next_stages, is_allowed
from leads.models import Company, Lead, StageTransition

# Fields a person or an API client may set directly. Stage changes only through lead_transition;
# scoring fields only through the scoring app's services.
LEAD_EDITABLE_FIELDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "phone",
        "job_title",
        "seniority",
        "country",
        "city",
        "language",
        "age_band",
        "company",
        "owner",
        "source_channel",
        "first_campaign",
        "last_campaign",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    }
)


def company_get_or_create(*, name: str) -> Company:
    """The company with this name (case-insensitive), created when there is none yet."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"company_name": _("Enter a company name.")})
    company = Company.objects.filter(name__iexact=name).first()
    if company is not None:
        return company
    try:
        with transaction.atomic():
            company = Company(name=name)
            company.full_clean(validate_constraints=False)
            company.save()
            return company
    except IntegrityError:
        # Someone created it between our read and our insert.
        return Company.objects.get(name__iexact=name)


def _check_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    duplicates = Lead.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    if duplicates.exists():
        raise ValidationError({"email": _("A lead with this e-mail address already exists.")})


def _apply_fields(lead: Lead, fields: dict[str, Any]) -> list[str]:
    unknown = set(fields) - LEAD_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    changed = []
    for name, value in fields.items():
        if name == "email":
            value = value.strip()
        if getattr(lead, name) != value:
            setattr(lead, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def lead_create(
    *,
    created_by: AbstractBaseUser | None,
    company_name: str = "",
    stage: str = Stage.UNQUALIFIED,
    **fields: Any,
) -> Lead:
    """Create a lead and the first entry of its stage history."""
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    lead = Lead(stage=stage)
    _apply_fields(lead, fields)
    if company_name and lead.company is None:
        lead.company = company_get_or_create(name=company_name)
    lead.full_clean(validate_constraints=False)
    _check_email_free(lead.email)
    now = timezone.now()
    lead.created_at = lead.updated_at = lead.stage_changed_at = now
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
    except IntegrityError as exc:
        # A concurrent create of the same address won the race.
        raise ValidationError(
            {"email": _("A lead with this e-mail address already exists.")}
        ) from exc
    StageTransition.objects.create(
        lead=lead,
        from_stage="",
        to_stage=stage,
        at=now,
        by_user=created_by,
        by_rule="" if created_by else "system",
    )
    transaction.on_commit(lambda: signals.lead_created.send(sender=Lead, lead_id=lead.pk))
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, company_name: str | None = None, **fields: Any) -> Lead:
    """Change a lead's editable fields; returns it unchanged when nothing differs.

    ``company_name`` links the named company (found or created); an empty one unlinks the company;
    ``None`` leaves it alone.
    """
    changed = _apply_fields(lead, fields)
    if company_name is not None and not company_name.strip():
        if lead.company_id is not None:
            lead.company = None
            changed.append("company")
    elif company_name:
        company = company_get_or_create(name=company_name)
        if lead.company_id != company.pk:
            lead.company = company
            changed.append("company")
    if not changed:
        return lead
    lead.full_clean(validate_constraints=False)
    if "email" in changed:
        _check_email_free(lead.email, exclude_pk=lead.pk)
    lead.updated_at = timezone.now()
    try:
        with transaction.atomic():
            lead.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(
            {"email": _("A lead with this e-mail address already exists.")}
        ) from exc
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead) -> None:
    lead.delete()


@transaction.atomic
def lead_transition(
    *,
    lead_id: int,
    to_stage: str,
    by_user: AbstractBaseUser | None = None,
    by_rule: str = "",
    reason: str = "",
) -> StageTransition:
    """Move a lead to another stage if the lifecycle table allows it, and record who and why.

    The lead row is locked first, so two concurrent moves of one lead are serialised and the second
    is judged against the stage the first one left.
    """
    if by_user is None and not by_rule:
        raise ValueError("A transition is made either by a user or by a named rule.")
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": _("“%(value)s” is not a stage.") % {"value": to_stage}})
    reason = reason.strip()
    if to_stage in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("Say why the lead leaves the funnel.")})

    lead = Lead.objects.select_for_update().get(pk=lead_id)
    from_stage = lead.stage
    if not is_allowed(from_stage, to_stage):
        raise TransitionNotAllowed(
            from_stage=from_stage, to_stage=to_stage, allowed=allowed_next_stages(from_stage)
        )
    now = timezone.now()
    lead.stage = to_stage
    lead.stage_changed_at = now
    lead.updated_at = now
    lead.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    transition = StageTransition.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        at=now,
        by_user=by_user,
        by_rule=by_rule,
        reason=reason,
    )
    transaction.on_commit(
        lambda: signals.lead_stage_changed.send(
            sender=Lead,
            lead_id=lead.pk,
            from_stage=from_stage,
            to_stage=to_stage,
            transition_id=transition.pk,
        )
    )
    return transition

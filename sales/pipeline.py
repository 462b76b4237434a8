"""Opportunities: converting an SQL, moving it along the pipeline, winning and losing it.

Every stage change of the lead goes through ``leads.services.lead_transition`` (so the history,
the signals and the webhooks follow); who may act is who may see the lead: its owner, managers
and admins."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import LostReason, Opportunity, PipelineStage
from leads.selectors import lead_visible_to


def _margin_above_amount() -> str:
    return _("The gross margin cannot be more than the amount.")


def _positive(value: Decimal | None, field: str, *, required: bool = True) -> None:
    if value is None:
        if required:
            raise ValidationError({field: _("This field is required.")})
        return
    if value < 0:
        raise ValidationError({field: _("Enter zero or more.")})


def first_stage() -> PipelineStage:
    stage = PipelineStage.objects.filter(active=True).first()
    if stage is None:
        raise ValidationError({"pipeline_stage": _("Set up at least one pipeline stage first.")})
    return stage


@transaction.atomic
def opportunity_convert(
    *,
    lead_id: int,
    by_user: AbstractBaseUser,
    name: str,
    amount: Decimal,
    expected_margin: Decimal,
    expected_close_on: date | None = None,
    currency: str = "EUR",
) -> Opportunity:
    """An SQL becomes an opportunity on the pipeline's first step, owned by the lead's owner."""
    if not name.strip():
        raise ValidationError({"name": _("This field is required.")})
    _positive(amount, "amount")
    _positive(expected_margin, "expected_margin")
    if expected_margin > amount:
        raise ValidationError({"expected_margin": _margin_above_amount()})
    stage = first_stage()
    lead_services.lead_transition(lead_id=lead_id, to_stage=Stage.OPPORTUNITY, by_user=by_user)
    lead = lead_visible_to(by_user).get(pk=lead_id)
    opportunity = Opportunity(
        lead=lead,
        name=name.strip(),
        amount=amount,
        currency=currency.upper(),
        expected_margin=expected_margin,
        probability=stage.probability,
        expected_close_on=expected_close_on,
        owner=lead.owner,
        pipeline_stage=stage,
    )
    opportunity.full_clean()
    opportunity.save(force_insert=True)
    return opportunity


def _lock_open(*, opportunity_id: int, by_user: AbstractBaseUser) -> Opportunity:
    opportunity = (
        Opportunity.objects.select_for_update(of=("self",))
        .filter(pk=opportunity_id, lead__in=lead_visible_to(by_user))
        .first()
    )
    if opportunity is None:
        raise PermissionDenied(_("You may not change this opportunity."))
    if opportunity.status != Opportunity.Status.OPEN:
        raise ValidationError(
            {
                "status": _("This opportunity is closed (%(status)s).")
                % {"status": opportunity.get_status_display()}
            }
        )
    return opportunity


@transaction.atomic
def opportunity_move(
    *, opportunity_id: int, stage_id: int, by_user: AbstractBaseUser
) -> Opportunity:
    """To another open step of the pipeline, taking that step's probability."""
    stage = PipelineStage.objects.filter(pk=stage_id, active=True).first()
    if stage is None:
        raise ValidationError({"pipeline_stage": _("Choose an active pipeline stage.")})
    opportunity = _lock_open(opportunity_id=opportunity_id, by_user=by_user)
    opportunity.pipeline_stage = stage
    opportunity.probability = stage.probability
    opportunity.save(update_fields=["pipeline_stage", "probability"])
    return opportunity


@transaction.atomic
def opportunity_win(
    *,
    opportunity_id: int,
    by_user: AbstractBaseUser,
    amount: Decimal,
    gross_margin: Decimal,
) -> Opportunity:
    """Won with the real amount and gross margin: the lead becomes a customer."""
    _positive(amount, "amount")
    _positive(gross_margin, "gross_margin")
    if gross_margin > amount:
        raise ValidationError(
            {"gross_margin": _("The gross margin cannot be more than the amount.")}
        )
    opportunity = _lock_open(opportunity_id=opportunity_id, by_user=by_user)
    lead_services.lead_transition(
        lead_id=opportunity.lead_id, to_stage=Stage.CUSTOMER, by_user=by_user
    )
    opportunity.status = Opportunity.Status.WON
    opportunity.amount, opportunity.gross_margin = amount, gross_margin
    opportunity.probability = 100
    opportunity.closed_at = timezone.now()
    opportunity.save(update_fields=["status", "amount", "gross_margin", "probability", "closed_at"])
    return opportunity


@transaction.atomic
def opportunity_lose(
    *, opportunity_id: int, by_user: AbstractBaseUser, reason_id: int | None, note: str = ""
) -> Opportunity:
    """Lost for a reason from the managed list; the lead goes back to nurture with it."""
    reason = LostReason.objects.filter(pk=reason_id, active=True).first() if reason_id else None
    if reason is None:
        raise ValidationError({"lost_because": _("Choose why it was lost.")})
    opportunity = _lock_open(opportunity_id=opportunity_id, by_user=by_user)
    text = f"{reason.label}: {note.strip()}" if note.strip() else reason.label
    lead_services.lead_transition(
        lead_id=opportunity.lead_id, to_stage=Stage.NURTURE, by_user=by_user, reason=text
    )
    opportunity.status = Opportunity.Status.LOST
    opportunity.lost_because, opportunity.lost_reason = reason, note.strip()[:255]
    opportunity.probability = 0
    opportunity.closed_at = timezone.now()
    opportunity.save(
        update_fields=["status", "lost_because", "lost_reason", "probability", "closed_at"]
    )
    return opportunity

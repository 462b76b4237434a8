"""Writes behind the lead list: bulk actions on the selected leads, saved views, chosen columns."""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import selectors, signals
from leads.exceptions import LeadChangedMeanwhile, TransitionNotAllowed
from leads.filters import LeadFilter
from leads.lifecycle import OWNER_REQUIRED, stage_managed_elsewhere
from leads.listing import clean_columns
from leads.models import Lead, LeadChange, LeadListSettings, SavedView
from leads.services import _announce_owner_change, _check_owner, _display, lead_transition

# More than a page or two at once is a job for a saved view and an export, not a click.
MAX_BULK_LEADS = 500
# Parameters a saved view keeps: the filters and the sort; the page's cursor and anything
# unknown are dropped.
VIEW_PARAMETERS = {*LeadFilter.base_filters, "sort"}


def check_selection(lead_ids: list[int]) -> list[int]:
    ids = sorted(set(lead_ids))
    if not ids:
        raise ValidationError({"lead": _("Select at least one lead.")})
    if len(ids) > MAX_BULK_LEADS:
        raise ValidationError(
            {"lead": _("Select at most %(max)d leads at once.") % {"max": MAX_BULK_LEADS}}
        )
    return ids


@transaction.atomic
def leads_assign(
    *, lead_ids: list[int], owner: AbstractBaseUser | None, by_user: AbstractBaseUser
) -> int:
    """Give every selected lead ``owner`` (``None``: unassign) in one UPDATE; each change is on
    the lead's timeline, and one ``leads_owner_changed`` for the batch makes them assignments.
    All or nothing: a lead ``by_user`` may not see, or a sales-stage lead left without owner,
    stops the whole batch. Returns how many leads changed hands."""
    ids = check_selection(lead_ids)
    _check_owner(by_user=by_user, owner=owner)
    visible = selectors.lead_visible_to(by_user).filter(pk__in=ids)
    leads = list(
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=visible.values("pk"))
        .select_related("owner")
        .order_by("pk")
    )
    if len(leads) != len(ids):
        missing = sorted(set(ids) - {lead.pk for lead in leads})
        raise LeadChangedMeanwhile(lead_id=missing[0])
    if owner is None and any(lead.stage in OWNER_REQUIRED for lead in leads):
        raise ValidationError({"owner": _("A lead in a sales stage needs an owner.")})
    changing = [lead for lead in leads if lead.owner_id != (owner.pk if owner else None)]
    if not changing:
        return 0
    now = timezone.now()
    Lead.objects.filter(pk__in=[lead.pk for lead in changing]).update(owner=owner, updated_at=now)
    LeadChange.objects.bulk_create(
        LeadChange(
            lead=lead,
            field="owner",
            old_value=_display(lead.owner),
            new_value=_display(owner),
            by_user=by_user,
            at=now,
        )
        for lead in changing
    )
    changed_ids = [lead.pk for lead in changing]

    def announce() -> None:
        for lead_id in changed_ids:
            signals.lead_fields_changed.send(sender=Lead, lead_id=lead_id, fields=["owner"])

    transaction.on_commit(announce)
    _announce_owner_change(lead_ids=changed_ids, owner=owner, by_user=by_user, at=now)
    return len(changing)


@dataclass
class BulkTransitionResult:
    moved: int = 0
    # Lead ids that stayed, with why: the lifecycle does not allow the move from their stage.
    skipped: dict[int, str] = field(default_factory=dict)


def leads_transition(
    *, lead_ids: list[int], to_stage: str, by_user: AbstractBaseUser, reason: str = ""
) -> BulkTransitionResult:
    """Move each selected lead through ``leads.services.lead_transition`` (its checks, its
    history, its signals), each in its own transaction; leads whose stage does not allow the move
    are skipped and reported, the others move."""
    ids = check_selection(lead_ids)
    how = stage_managed_elsewhere(to_stage)
    if how is not None:
        raise ValidationError({"to_stage": how})
    visible = set(
        selectors.lead_visible_to(by_user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    result = BulkTransitionResult()
    for lead_id in ids:
        if lead_id not in visible:
            result.skipped[lead_id] = _("You may not see this lead.")
            continue
        try:
            lead_transition(lead_id=lead_id, to_stage=to_stage, by_user=by_user, reason=reason)
        except TransitionNotAllowed as exc:
            result.skipped[lead_id] = str(exc)
        except LeadChangedMeanwhile:
            result.skipped[lead_id] = _("The lead changed meanwhile.")
        except ValidationError as exc:
            if "reason" in getattr(exc, "error_dict", {}):
                raise
            result.skipped[lead_id] = " ".join(exc.messages)
        else:
            result.moved += 1
    return result


def clean_view_query(query: str) -> str:
    """The list's query string without paging or unknown parameters, in a stable order."""
    pairs = [(key, value) for key, value in parse_qsl(query) if key in VIEW_PARAMETERS and value]
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


@transaction.atomic
def saved_view_save(
    *, owner: AbstractBaseUser, name: str, query: str, columns: list[str], shared: bool = False
) -> SavedView:
    """Save the list as it is under ``name``; saving again under a name of one's own replaces
    that view (names are unique per owner, ignoring case)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise ValidationError({"name": _("Keep the name under 80 characters.")})
    values = {"query": clean_view_query(query), "columns": clean_columns(columns), "shared": shared}
    existing = SavedView.objects.select_for_update().filter(owner=owner, name__iexact=name).first()
    if existing is not None:
        for attribute, value in values.items():
            setattr(existing, attribute, value)
        existing.name = name
        existing.save(update_fields=[*values, "name"])
        return existing
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=owner, name=name, **values)
    except IntegrityError as exc:  # saved under the same name by a second tab just now
        raise ValidationError({"name": _("You already have a view with this name.")}) from exc


@transaction.atomic
def saved_view_delete(*, view_id: int, by_user: AbstractBaseUser) -> None:
    """Only the owner deletes a view (a shared one disappears for everyone)."""
    deleted, _rows = SavedView.objects.filter(pk=view_id, owner=by_user).delete()
    if not deleted:
        raise ValidationError({"view": _("This view is not yours or no longer exists.")})


@transaction.atomic
def list_columns_set(*, user: AbstractBaseUser, columns: list[str]) -> list[str]:
    chosen = clean_columns(columns)
    LeadListSettings.objects.update_or_create(user=user, defaults={"columns": chosen})
    return chosen

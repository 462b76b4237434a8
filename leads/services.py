"""Every write to leads, companies and their history goes through these functions."""

import hashlib
from datetime import datetime
from typing import Any, TypedDict, Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadcrm.roles import Role, has_role
from leads import selectors, signals
from leads.exceptions import LeadAlreadyClaimed, LeadChangedMeanwhile, TransitionNotAllowed
from leads.lifecycle import (
    OWNER_REQUIRED,
    REASON_REQUIRED,
    Stage,
    allowed_next_stages,
    is_allowed,
)
from leads.models import (
    AuditEntry,
    Campaign,
    Channel,
    Company,
    Consent,
    Lead,
    LeadChange,
    StageTransition,
)
from leads.normalize import normalize_domain, normalize_email
from leads.permissions import can_assign_owner

IMPORT_RULE = "import"


class LeadFields(TypedDict, total=False):
    """The fields a person or an API client may set on a lead. Stage changes only through
    lead_transition; scoring fields only through the scoring app's services."""

    email: str
    first_name: str
    last_name: str
    phone: str
    job_title: str
    seniority: str
    country: str
    city: str
    language: str
    age_band: str
    company: Company | None
    owner: AbstractBaseUser | None
    source_channel: str
    first_campaign: Campaign | None
    last_campaign: Campaign | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str


# In declaration order, which is also the order forms (the admin's) show them in.
LEAD_EDITABLE_FIELDS = tuple(LeadFields.__annotations__)

# Which constraint failed decides which field the person must fix: constraint name, the columns
# SQLite names instead for unique constraints, the field, the message.
CONSTRAINT_FIELDS = [
    ("lead_email_key_unique", "leads_lead.email_key", "email"),
    ("lead_owner_required", "", "owner"),
    ("company_domain_unique", "leads_company.domain", "domain"),
]


def _constraint_message(field: str) -> str:
    return {
        "email": _("A lead with this e-mail address already exists."),
        "owner": _("A lead in this stage needs an owner."),
        "domain": _("A company with this domain already exists."),
    }[field]


def _constraint_error(exc: IntegrityError) -> ValidationError:
    """The ValidationError naming the field behind the constraint ``exc`` reports; re-raises
    ``exc`` for a constraint no person can fix.

    PostgreSQL names the constraint (psycopg's ``diag``); SQLite names a check constraint or the
    columns of a unique one in its message.
    """
    cause = exc.__cause__
    name = getattr(getattr(cause, "diag", None), "constraint_name", None) or ""
    message = str(cause or exc)
    for constraint, sqlite_columns, field in CONSTRAINT_FIELDS:
        if (
            name == constraint
            or constraint in message
            or (sqlite_columns and message.endswith(sqlite_columns))
        ):
            return ValidationError({field: _constraint_message(field)})
    raise exc


def _is_assignable(user: AbstractBaseUser) -> bool:
    return user.is_active and has_role(user, Role.SALES_REP, Role.SALES_MANAGER)


def _check_owner(*, by_user: AbstractBaseUser | None, owner: AbstractBaseUser | None) -> None:
    if owner is None:
        return
    if not _is_assignable(owner):
        raise ValidationError(
            {"owner": _("Leads can only be assigned to sales reps and managers.")}
        )
    if by_user is not None and not can_assign_owner(by_user, owner):
        raise ValidationError({"owner": _("You may only assign leads to yourself.")})


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, AbstractBaseUser):
        return value.get_full_name() or value.get_username()
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def _record_changes(
    *,
    lead: Lead,
    before: dict[str, Any],
    by_user: AbstractBaseUser | None,
    by_rule: str = "",
    at: datetime,
) -> None:
    LeadChange.objects.bulk_create(
        LeadChange(
            lead=lead,
            field=name,
            old_value=_display(old),
            new_value=_display(getattr(lead, name)),
            by_user=by_user,
            by_rule=by_rule,
            at=at,
        )
        for name, old in before.items()
    )


@transaction.atomic
def company_update(*, company_id: int, **fields) -> Company:
    """Change a company's fields; after commit, listeners hear which changed (a grade rule may
    read the industry, size or revenue of its leads' company)."""
    company = Company.objects.select_for_update().get(pk=company_id)
    changed = [name for name, value in fields.items() if getattr(company, name) != value]
    for name in changed:
        setattr(company, name, fields[name])
    if changed:
        company.save(update_fields=changed)
        transaction.on_commit(
            lambda: signals.company_fields_changed.send(
                sender=Company, company_id=company_id, fields=changed
            )
        )
    return company


def _announce_owner_change(
    *,
    lead_ids: list[int],
    owner: AbstractBaseUser | None,
    by_user: AbstractBaseUser | None,
    at: datetime,
) -> None:
    """``leads_owner_changed`` after commit: sales makes each change an assignment."""
    owner_id = owner.pk if owner is not None else None
    by_user_id = by_user.pk if by_user is not None else None
    transaction.on_commit(
        lambda: signals.leads_owner_changed.send(
            sender=Lead, lead_ids=lead_ids, owner_id=owner_id, by_user_id=by_user_id, at=at
        )
    )


def company_get_or_create(*, name: str, domain: str = "") -> Company:
    """The company with this domain, else the oldest with this name (case-insensitive), else a
    new one. Companies deduplicate by domain; names may repeat (two "Müller GmbH")."""
    name = " ".join(name.split())
    domain = normalize_domain(domain)
    if not name and not domain:
        raise ValidationError({"company_name": _("Enter a company name.")})
    if domain:
        company = Company.objects.filter(domain=domain).first()
    else:
        company = Company.objects.filter(name__iexact=name).order_by("id").first()
    if company is not None:
        return company
    try:
        with transaction.atomic():
            company = Company(name=name or domain, domain=domain)
            company.full_clean(validate_constraints=False)
            company.save()
            return company
    except IntegrityError:
        # Someone created the same domain between our read and our insert.
        return Company.objects.get(domain=domain)


def _apply_fields(lead: Lead, fields: dict[str, Any]) -> dict[str, Any]:
    """Set ``fields`` on ``lead``; returns the changed field names with their old values."""
    unknown = set(fields).difference(LEAD_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    before = {}
    for name, value in fields.items():
        if name == "email":
            value = value.strip()
        if name == "country":
            value = (value or "").upper()
        old = getattr(lead, name)
        if old != value:
            before[name] = old
            setattr(lead, name, value)
    if "email" in before:
        lead.email_key = normalize_email(lead.email)
    return before


def _check_email_free(lead: Lead) -> None:
    if Lead.objects.filter(email_key=lead.email_key).exclude(pk=lead.pk).exists():
        raise ValidationError({"email": _("A lead with this e-mail address already exists.")})


@transaction.atomic
def lead_create(
    *,
    created_by: AbstractBaseUser | None,
    company_name: str = "",
    stage: str = Stage.UNQUALIFIED,
    stage_reason: str = "",
    **fields: Unpack[LeadFields],
) -> Lead:
    """Create a lead and the first entry of its stage history.

    A lead starts unqualified. Only an import of existing contacts (customers moved over from
    another system) may start elsewhere, and says why in ``stage_reason``; the history records it
    as made by the import rule.
    """
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    stage_reason = stage_reason.strip()
    if stage != Stage.UNQUALIFIED and not stage_reason:
        raise ValidationError(
            {
                "stage": _(
                    "A new lead starts unqualified; an import that sets another stage says why."
                )
            }
        )
    lead = Lead(stage=stage)
    _apply_fields(lead, {"email": "", **fields})
    if company_name and lead.company is None:
        lead.company = company_get_or_create(name=company_name)
    _check_owner(by_user=created_by, owner=lead.owner)
    if stage in OWNER_REQUIRED and lead.owner is None:
        raise ValidationError({"owner": _("A lead in this stage needs an owner.")})
    lead.full_clean(validate_constraints=False)
    _check_email_free(lead)
    now = timezone.now()
    lead.created_at = lead.updated_at = lead.stage_changed_at = now
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
    except IntegrityError as exc:
        # A concurrent create of the same address won the race.
        raise _constraint_error(exc) from exc
    StageTransition.objects.create(
        lead=lead,
        from_stage="",
        to_stage=stage,
        at=now,
        by_user=created_by,
        by_rule=IMPORT_RULE if stage != Stage.UNQUALIFIED else ("" if created_by else "system"),
        reason=stage_reason,
    )
    transaction.on_commit(lambda: signals.lead_created.send(sender=Lead, lead_id=lead.pk))
    if lead.owner is not None:
        _record_changes(lead=lead, before={"owner": None}, by_user=created_by, at=now)
        _announce_owner_change(lead_ids=[lead.pk], owner=lead.owner, by_user=created_by, at=now)
    return lead


def _lock_for(*, lead_id: int, by_user: AbstractBaseUser | None) -> Lead:
    """The lead row, locked; ``by_user`` must still be allowed to see it once the lock is held
    (a manager may have reassigned it, or someone deleted it, since the caller looked)."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("company", "owner", "first_campaign", "last_campaign", "score")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None or (
        by_user is not None and not selectors.lead_is_visible_to(user=by_user, lead_id=lead_id)
    ):
        raise LeadChangedMeanwhile(lead_id=lead_id)
    return lead


@transaction.atomic
def lead_update(
    *,
    lead_id: int,
    by_user: AbstractBaseUser | None,
    company_name: str | None = None,
    **fields: Unpack[LeadFields],
) -> Lead:
    """Change a lead's editable fields and record each change; no write when nothing differs.

    ``company_name`` links the named company (found or created); an empty one unlinks the company;
    ``None`` leaves it alone.
    """
    lead = _lock_for(lead_id=lead_id, by_user=by_user)
    before = _apply_fields(lead, dict(fields))
    if company_name is not None and not company_name.strip():
        if lead.company_id is not None:
            before.setdefault("company", lead.company)
            lead.company = None
    elif company_name:
        company = company_get_or_create(name=company_name)
        if lead.company_id != company.pk:
            before.setdefault("company", lead.company)
            lead.company = company
    if not before:
        return lead
    if "owner" in before:
        _check_owner(by_user=by_user, owner=lead.owner)
        if lead.stage in OWNER_REQUIRED and lead.owner is None:
            raise ValidationError({"owner": _("A lead in this stage needs an owner.")})
    lead.full_clean(validate_constraints=False)
    if "email" in before:
        _check_email_free(lead)
    now = timezone.now()
    lead.updated_at = now
    changed = [*before, "email_key"] if "email" in before else list(before)
    try:
        with transaction.atomic():
            lead.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        raise _constraint_error(exc) from exc
    _record_changes(lead=lead, before=before, by_user=by_user, at=now)
    if "owner" in before:
        _announce_owner_change(lead_ids=[lead.pk], owner=lead.owner, by_user=by_user, at=now)
    changed_fields = sorted(before)
    transaction.on_commit(
        lambda: signals.lead_fields_changed.send(
            sender=Lead, lead_id=lead.pk, fields=changed_fields
        )
    )
    return lead


@transaction.atomic
def lead_claim(*, lead_id: int, user: AbstractBaseUser) -> Lead:
    """A sales rep takes an unassigned MQL. A conditional UPDATE: of two reps claiming at once,
    exactly one gets the lead and the other hears that someone was faster."""
    if not _is_assignable(user):
        raise ValidationError({"owner": _("Only sales reps and managers can claim leads.")})
    now = timezone.now()
    claimed = Lead.objects.filter(pk=lead_id, owner__isnull=True, stage=Stage.MQL).update(
        owner=user, updated_at=now
    )
    if not claimed:
        raise LeadAlreadyClaimed(lead_id=lead_id)
    lead = Lead.objects.select_related("owner", "company").get(pk=lead_id)
    _record_changes(lead=lead, before={"owner": None}, by_user=user, at=now)
    _announce_owner_change(lead_ids=[lead.pk], owner=user, by_user=user, at=now)
    return lead


@transaction.atomic
def lead_delete(*, lead_id: int, by_user: AbstractBaseUser | None) -> None:
    """Delete a lead with its history, leaving an audit entry that holds no personal data."""
    lead = _lock_for(lead_id=lead_id, by_user=by_user)
    AuditEntry.objects.create(
        action=AuditEntry.Action.LEAD_DELETED,
        object_id=lead.pk,
        email_sha256=hashlib.sha256(lead.email_key.encode()).hexdigest(),
        by_user=by_user,
    )
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
    is judged against the stage the first one left; a user must still see the lead once the lock
    is held (LeadChangedMeanwhile if it was reassigned or deleted). Sales stages need an owner:
    a rep or manager who qualifies an unassigned MQL takes it; anyone else must assign it first.
    """
    if by_user is None and not by_rule:
        raise ValueError("A transition is made either by a user or by a named rule.")
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": _("“%(value)s” is not a stage.") % {"value": to_stage}})
    reason = reason.strip()
    if to_stage in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("Say why the lead leaves the funnel.")})

    lead = _lock_for(lead_id=lead_id, by_user=by_user)
    from_stage = lead.stage
    if not is_allowed(from_stage, to_stage):
        raise TransitionNotAllowed(
            from_stage=from_stage, to_stage=to_stage, allowed=allowed_next_stages(from_stage)
        )
    now = timezone.now()
    update_fields = ["stage", "stage_changed_at", "updated_at"]
    claimed = False
    if to_stage in OWNER_REQUIRED and lead.owner_id is None:
        if by_user is None or not _is_assignable(by_user):
            raise ValidationError(
                {"owner": _("Assign an owner before moving the lead to this stage.")}
            )
        lead.owner = by_user
        update_fields.append("owner")
        claimed = True
    lead.stage = to_stage
    lead.stage_changed_at = now
    lead.updated_at = now
    lead.save(update_fields=update_fields)
    if claimed:
        _record_changes(lead=lead, before={"owner": None}, by_user=by_user, at=now)
        _announce_owner_change(lead_ids=[lead.pk], owner=by_user, by_user=by_user, at=now)
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


@transaction.atomic
def leads_transition_by_rule(*, leads: models.QuerySet[Lead], to_stage: str, by_rule: str) -> int:
    """Move every lead of ``leads`` that the lifecycle lets go to ``to_stage`` there at once (a
    rule's verdict over many leads, e.g. after a scoring change): the rows are locked, moved with
    one UPDATE and recorded with one INSERT; ``lead_stage_changed`` fires per lead after commit.
    Leads whose stage does not allow the move are left as they are. Returns how many moved."""
    if not by_rule:
        raise ValueError("A bulk transition is made by a named rule.")
    allowed_from = [stage for stage in Stage.values if is_allowed(stage, to_stage)]
    movable = leads.filter(stage__in=allowed_from)
    if to_stage in OWNER_REQUIRED:
        movable = movable.filter(owner__isnull=False)
    rows = list(movable.order_by("pk").select_for_update(of=("self",)).values_list("pk", "stage"))
    if not rows:
        return 0
    now = timezone.now()
    Lead.objects.filter(pk__in=[pk for pk, _stage in rows]).update(
        stage=to_stage, stage_changed_at=now, updated_at=now
    )
    transitions = StageTransition.objects.bulk_create(
        StageTransition(
            lead_id=pk, from_stage=stage, to_stage=to_stage, at=now, by_rule=by_rule, reason=""
        )
        for pk, stage in rows
    )

    def announce() -> None:
        for transition in transitions:
            signals.lead_stage_changed.send(
                sender=Lead,
                lead_id=transition.lead_id,
                from_stage=transition.from_stage,
                to_stage=to_stage,
                transition_id=transition.pk,
                in_bulk=True,
            )
        signals.leads_stage_changed.send(
            sender=Lead,
            lead_ids=[transition.lead_id for transition in transitions],
            to_stage=to_stage,
            by_rule=by_rule,
        )

    transaction.on_commit(announce)
    return len(rows)


# --- Upsert by e-mail (API ingest; forms and landing pages reuse it) ----------------------------

# Attribution of the first touch: an upsert fills these when the lead has none yet (a source
# channel still at its default counts as none) and never moves them to a later touch.
FIRST_TOUCH_FIELDS = {"first_campaign": None, "source_channel": Channel.DIRECT}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _upsert_changes(lead: Lead, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields an upsert writes to an existing lead: empty values never blank a filled field,
    and first-touch fields stay as they are once set."""
    changes = {}
    for name, value in fields.items():
        if _blank(value):
            continue
        if name in FIRST_TOUCH_FIELDS and getattr(lead, name) != FIRST_TOUCH_FIELDS[name]:
            continue
        changes[name] = value
    return changes


@transaction.atomic
def lead_upsert(
    *,
    email: str,
    by_user: AbstractBaseUser | None = None,
    company_name: str | None = None,
    **fields: Unpack[LeadFields],
) -> tuple[Lead, bool]:
    """Create the lead with this e-mail address, or update the one that has it; returns
    ``(lead, created)``.

    Duplicates are found by the normalised address (``Lead.email_key``), so `` Max@Example.COM``
    updates ``max@example.com``, whose address stays as first typed. On an update, empty or absent
    values leave filled fields alone, and a company name links that company only when given.
    Two simultaneous upserts of one new address make one lead: the slower insert meets the unique
    index, and the upsert continues as an update of the lead that won.

    ``by_user`` must be allowed to see an existing lead: otherwise PermissionDenied (HTTP 403),
    and nothing is changed. The API lets only roles that see every lead upsert, so this guards
    the service for other callers.
    """
    if "email" in fields:
        raise ValueError("Pass the address as email=, not among the fields.")
    key = normalize_email(email)
    existing = Lead.objects.filter(email_key=key).values_list("pk", flat=True).first()
    if existing is None and key:
        try:
            # A savepoint: a lost race (or any refusal) takes back what the attempt wrote, such
            # as a company it created, and leaves the transaction usable for the update.
            with transaction.atomic():
                lead = lead_create(
                    created_by=by_user, email=email, company_name=company_name or "", **fields
                )
            return lead, True
        except ValidationError as exc:
            if "email" not in getattr(exc, "error_dict", {}):
                raise
            existing = Lead.objects.filter(email_key=key).values_list("pk", flat=True).first()
            if existing is None:
                raise
    elif existing is None:
        # An empty or unusable address: lead_create names the field.
        return lead_create(created_by=by_user, email=email, **fields), True

    if by_user is not None and not selectors.lead_is_visible_to(user=by_user, lead_id=existing):
        raise PermissionDenied(
            _("You may not change the existing lead with the e-mail address %(email)s.")
            % {"email": email.strip()}
        )
    lead = _lock_for(lead_id=existing, by_user=by_user)
    changes = _upsert_changes(lead, dict(fields))
    company = None if _blank(company_name) else company_name
    if not changes and company is None:
        return lead, False
    return lead_update(lead_id=existing, by_user=by_user, company_name=company, **changes), False


def consent_record(
    *,
    lead: Lead,
    purpose: str,
    source: str,
    confirmed: bool,
    ip_address: str | None = None,
    wording: str = "",
    source_detail: str = "",
) -> Consent:
    """A consent the person gave: granted at once, or pending until they confirm it (double
    opt-in: see ``consent_confirm``)."""
    now = timezone.now()
    consent = Consent(
        lead=lead,
        purpose=purpose,
        source=source,
        status=Consent.Status.GRANTED if confirmed else Consent.Status.PENDING,
        recorded_at=now,
        confirmed_at=now if confirmed else None,
        ip_address=ip_address or None,
        wording=wording,
        source_detail=source_detail,
    )
    consent.full_clean()
    consent.save(force_insert=True)
    return consent


@transaction.atomic
def consent_confirm(*, consent_id: int) -> tuple[Consent, bool]:
    """The person confirmed a pending consent from the link in their e-mail; returns the consent
    and whether this call confirmed it (False: it was confirmed before, or withdrawn since)."""
    consent = Consent.objects.select_for_update().get(pk=consent_id)
    if consent.status != Consent.Status.PENDING:
        return consent, False
    consent.status = Consent.Status.GRANTED
    consent.confirmed_at = timezone.now()
    consent.save(update_fields=["status", "confirmed_at"])
    return consent, True

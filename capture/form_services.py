"""Writes of capture forms: saving a form from the editor, a visitor's submission (lead, event,
consent, double opt-in e-mail) and the confirmation of a double opt-in link."""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from capture.models import CaptureForm, FormField, FormSubmission, OutboundEmail
from leads import event_services
from leads import services as lead_services
from leads.models import Channel, Consent, EventKind
from leads.normalize import normalize_email

logger = logging.getLogger(__name__)

CONFIRM_SALT = "capture.double-opt-in"
# The same submission again within this many seconds (a double click, a browser retry, a
# replayed request) is answered as accepted and stores nothing.
REPEAT_SECONDS = 60


@transaction.atomic
def capture_form_save(*, capture_form: CaptureForm, fields: list[dict]) -> CaptureForm:
    """Save a form (new or changed) with its fields, in the order given; the e-mail field is
    always there and always required (it identifies the lead)."""
    capture_form.full_clean()
    capture_form.save()
    names = [field["name"] for field in fields]
    if FormField.Name.EMAIL not in names:
        fields = [{"name": FormField.Name.EMAIL, "required": True}, *fields]
    capture_form.fields.all().delete()
    FormField.objects.bulk_create(
        FormField(
            form=capture_form,
            name=field["name"],
            label_en=field.get("label_en", ""),
            label_de=field.get("label_de", ""),
            required=field.get("required", False) or field["name"] == FormField.Name.EMAIL,
            position=position,
        )
        for position, field in enumerate(fields)
    )
    return capture_form


@dataclass(frozen=True)
class Submitted:
    submission: FormSubmission | None  # None: a repeat of a submission just accepted
    needs_confirmation: bool


def _fingerprint(capture_form: CaptureForm, values: dict) -> str:
    payload = json.dumps(
        {"form": capture_form.pk, **values, "email": normalize_email(values["email"])},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def form_submit(
    *,
    capture_form: CaptureForm,
    values: dict,
    consent_given: bool,
    language: str,
    ip_address: str | None,
    page_url: str = "",
    visitor_id: str = "",
) -> Submitted:
    """A visitor's valid submission: the lead created or updated (matched on the normalised
    e-mail; empty fields never blank filled ones), a ``form_submit`` event, the consent shown
    and given, and with double opt-in a confirmation e-mail sent after commit. The same
    submission again within a minute stores nothing."""
    fingerprint = _fingerprint(capture_form, {**values, "consent": consent_given})
    repeat_key = f"capture:form-submit:{fingerprint}"
    if not cache.add(repeat_key, 1, timeout=REPEAT_SECONDS):
        return Submitted(submission=None, needs_confirmation=False)
    try:
        return _store(
            capture_form=capture_form,
            values=values,
            consent_given=consent_given,
            language=language,
            ip_address=ip_address,
            page_url=page_url,
            visitor_id=visitor_id,
            fingerprint=fingerprint,
        )
    except BaseException:
        cache.delete(repeat_key)  # nothing was stored: the visitor may send it again
        raise


@transaction.atomic
def _store(
    *,
    capture_form: CaptureForm,
    values: dict,
    consent_given: bool,
    language: str,
    ip_address: str | None,
    page_url: str,
    visitor_id: str,
    fingerprint: str,
) -> Submitted:
    campaign = capture_form.campaign
    fields = {name: value for name, value in values.items() if name != "email"}
    company_name = fields.pop(FormField.Name.COMPANY, None)
    lead, created = lead_services.lead_upsert(
        email=values["email"],
        company_name=company_name,
        language="de" if language.startswith("de") else "en",
        source_channel=campaign.channel if campaign else Channel.DIRECT,
        first_campaign=campaign,
        last_campaign=campaign,
        **fields,
    )
    # Backs up the cache's repeat check (a cache that was cleared): one event per minute and
    # payload.
    minute = int(timezone.now().timestamp() // REPEAT_SECONDS)
    event = event_services.event_record(
        kind=EventKind.FORM_SUBMIT,
        lead=lead,
        url=page_url[:2000],
        campaign=campaign,
        properties={"form": capture_form.slug},
        idempotency_key=f"form:{fingerprint[:40]}:{minute}",
    )
    if event is None:
        return Submitted(submission=None, needs_confirmation=False)
    if visitor_id:
        event_services.visitor_link(visitor_id=visitor_id, lead_id=lead.pk)
    consent = None
    if consent_given:
        consent = lead_services.consent_record(
            lead=lead,
            purpose=capture_form.consent_purpose,
            source=Consent.Source.LANDING_PAGE if not page_url else Consent.Source.WEB_FORM,
            confirmed=not capture_form.double_opt_in,
            ip_address=ip_address,
            wording=capture_form.text("consent", language),
            source_detail=f"form:{capture_form.slug}",
        )
    submission = FormSubmission.objects.create(
        form=capture_form,
        lead=lead,
        created_lead=created,
        event=event,
        consent=consent,
        ip_address=ip_address or None,
    )
    needs_confirmation = consent is not None and consent.status == Consent.Status.PENDING
    if needs_confirmation:
        queue_confirmation(capture_form=capture_form, consent=consent, language=language)
    return Submitted(submission=submission, needs_confirmation=needs_confirmation)


def confirmation_token(consent: Consent) -> str:
    return signing.dumps(consent.pk, salt=CONFIRM_SALT)


def queue_confirmation(*, capture_form: CaptureForm, consent: Consent, language: str) -> None:
    link = settings.LEADCRM_PUBLIC_URL + reverse(
        "landing:confirm", args=[confirmation_token(consent)]
    )
    with translation.override("de" if language.startswith("de") else "en"):
        subject = render_to_string(
            "capture/email/confirm_subject.txt", {"form": capture_form}
        ).strip()
        body = render_to_string(
            "capture/email/confirm_body.txt",
            {
                "form": capture_form,
                "link": link,
                "wording": consent.wording,
                "days": settings.LEADCRM_DOUBLE_OPT_IN_DAYS,
            },
        )
    email = OutboundEmail.objects.create(
        to=consent.lead.email, subject=subject, body=body, lead=consent.lead
    )
    from capture import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.outbound_email_send.delay(email.pk))


def outbound_email_send(*, email_id: int) -> bool:
    """Send one queued e-mail through Django's mail backend, once (idempotent: a sent one is
    not sent again); True when this call sent it."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.sent_at is not None:
            return False
        try:
            send_mail(email.subject, email.body, None, [email.to])
        except OSError as exc:  # smtplib's errors are OSErrors
            logger.warning("double opt-in e-mail %s not sent: %s", email.pk, exc)
            email.error = str(exc)[:1000]
            email.save(update_fields=["error"])
            raise
        email.sent_at = timezone.now()
        email.error = ""
        email.save(update_fields=["sent_at", "error"])
        return True


class ConfirmationRefused(Exception):
    """The link is altered or too old; ``expired`` tells which."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def consent_confirm_link(*, token: str) -> tuple[Consent, bool]:
    """The person clicked the link in the double opt-in e-mail: their consent counts from now.
    Returns the consent and whether this click confirmed it (False: confirmed before)."""
    max_age = timedelta(days=settings.LEADCRM_DOUBLE_OPT_IN_DAYS)
    try:
        consent_id = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ConfirmationRefused(expired=True) from None
    except signing.BadSignature:
        raise ConfirmationRefused(expired=False) from None
    if not isinstance(consent_id, int) or not Consent.objects.filter(pk=consent_id).exists():
        raise ConfirmationRefused(expired=False)
    return lead_services.consent_confirm(consent_id=consent_id)

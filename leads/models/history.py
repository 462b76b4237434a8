"""What happened to a lead besides its stage: field changes, the audit trail, the team's
activities, consent."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models.lead import Lead


class LeadChange(models.Model):
    """One field of a lead changed: who, when, from what to what.

    Values are stored as text at the time of the change: choice codes for choice fields (shown
    with their label in the reader's language) and the display text for related objects, so the
    history stays readable when the related object is renamed or deleted.
    """

    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("lead"),
        db_index=False,
    )
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by user"),
    )
    by_rule = models.CharField(_("by rule"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("lead change")
        verbose_name_plural = _("lead changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "-at"], name="leadchange_lead_at")]

    def __str__(self) -> str:
        return f"{self.lead_id}.{self.field}: {self.old_value!r} → {self.new_value!r}"


class AuditEntry(models.Model):
    """Things that leave no other trace, such as a deleted lead. Holds no personal data: a
    deleted lead's e-mail is kept only as a SHA-256 of its normalised form, enough to answer
    "was this address deleted, and by whom?" for someone who knows the address."""

    class Action(models.TextChoices):
        LEAD_DELETED = "lead_deleted", _("Lead deleted")

    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_id = models.BigIntegerField(_("object id"))
    email_sha256 = models.CharField(_("e-mail (SHA-256)"), max_length=64, blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by user"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "-at"], name="audit_action_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.object_id}"


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("E-mail")
        NOTE = "note", _("Note")
        TASK = "task", _("Task")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="activities", verbose_name=_("lead")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    # Who must do a task (kind "task", with a due date); empty for logged calls, notes and so on.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_activities",
        verbose_name=_("assigned to"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="activity_lead_at"),
            # "My tasks": a user's tasks by due date (open ones) and by completion (done today).
            models.Index(
                fields=["assignee", "due_at"],
                condition=models.Q(due_at__isnull=False),
                name="activity_assignee_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class Consent(models.Model):
    class Purpose(models.TextChoices):
        MARKETING_EMAIL = "marketing_email", _("Marketing e-mail")
        NEWSLETTER = "newsletter", _("Newsletter")
        PHONE = "phone", _("Phone calls")
        TRACKING = "tracking", _("Website tracking")

    class Source(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        LANDING_PAGE = "landing_page", _("Landing page")
        API = "api", _("API")
        IMPORT = "import", _("Import")
        MANUAL = "manual", _("Entered by staff")
        TRADE_FAIR = "trade_fair", _("Trade fair")
        COOKIE_BANNER = "cookie_banner", _("Cookie banner")
        UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="consents", verbose_name=_("lead")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("double opt-in confirmed"), null=True, blank=True)
    # What the person agreed to, word for word, and where (e.g. "form:webinar-signup").
    # Database defaults too: bench.generate's COPY leaves them out.
    wording = models.TextField(_("text shown"), blank=True, default="", db_default="")
    source_detail = models.CharField(
        _("where"), max_length=100, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["lead", "purpose", "-recorded_at"], name="consent_lead")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_status_display()}"

import re

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Campaign, Consent, Event, EventKind, Lead

pattern_validator = RegexValidator(
    r"^/\S*$",
    _("Start with “/” and leave out spaces, e.g. /pricing*."),
)


class TrackingRule(models.Model):
    """Which event kind a tracked page view becomes: the first rule (by position) whose pattern
    matches the page's path wins; no match is a plain page view."""

    pattern = models.CharField(
        _("URL pattern"),
        max_length=200,
        validators=[pattern_validator],
        help_text=_("A path on your website; * matches anything, e.g. /pricing*"),
    )
    kind = models.CharField(_("event kind"), max_length=20, choices=EventKind.choices)
    position = models.PositiveIntegerField(
        _("position"), default=100, help_text=_("Lower numbers are checked first.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("tracking rule")
        verbose_name_plural = _("tracking rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.kind}"

    def compiled(self) -> re.Pattern[str]:
        """The pattern as a regular expression over the lower-cased path: ``*`` is any text,
        everything else literal (``/pricing*`` matches ``/pricing``, ``/Pricing/enterprise``)."""
        parts = (re.escape(part) for part in self.pattern.lower().split("*"))
        return re.compile(".*".join(parts) + r"\Z")


class CaptureForm(models.Model):
    """A lead capture form: shown on its hosted landing page (``/f/<slug>/``) and embedded on
    other websites with one script tag. Texts come in English and German; the visitor's language
    picks them (English when the German one is empty)."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("address"),
        max_length=80,
        unique=True,
        help_text=_("The landing page's address: /f/<address>/"),
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="capture_forms",
        verbose_name=_("campaign"),
        help_text=_("Leads from this form count for this campaign (first and last touch)."),
    )
    title_en = models.CharField(_("heading (English)"), max_length=200, blank=True)
    title_de = models.CharField(_("heading (German)"), max_length=200, blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    intro_de = models.TextField(_("introduction (German)"), blank=True)
    submit_en = models.CharField(
        _("button (English)"), max_length=60, blank=True, help_text=_("Empty: “Send”.")
    )
    submit_de = models.CharField(_("button (German)"), max_length=60, blank=True)
    consent_en = models.TextField(
        _("consent text (English)"),
        blank=True,
        help_text=_("The checkbox text. Without one, the form asks for no consent."),
    )
    consent_de = models.TextField(_("consent text (German)"), blank=True)
    consent_purpose = models.CharField(
        _("consent for"),
        max_length=20,
        choices=Consent.Purpose.choices,
        default=Consent.Purpose.MARKETING_EMAIL,
    )
    consent_required = models.BooleanField(
        _("consent required"), default=False, help_text=_("The form cannot be sent without it.")
    )
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=True,
        help_text=_("Consent counts only once the person confirms it from an e-mail."),
    )
    thank_you_en = models.TextField(_("thank-you message (English)"), blank=True)
    thank_you_de = models.TextField(_("thank-you message (German)"), blank=True)
    redirect_url = models.URLField(
        _("redirect to"),
        blank=True,
        help_text=_("Instead of the thank-you message, send the visitor to this page."),
    )
    capture_utm = models.BooleanField(
        _("UTM parameters"),
        default=True,
        help_text=_("Hidden fields take utm_source … utm_content from the page's address."),
    )
    allowed_origins = models.TextField(
        _("websites that may embed it"),
        blank=True,
        help_text=_("One origin per line, e.g. https://www.example.com"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("capture form")
        verbose_name_plural = _("capture forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def text(self, name: str, language: str) -> str:
        """``name``'s text in ``language`` (en or de), the English one when that is empty."""
        if language.startswith("de"):
            return getattr(self, f"{name}_de") or getattr(self, f"{name}_en")
        return getattr(self, f"{name}_en")

    def origins(self) -> set[str]:
        return {
            line.strip().rstrip("/").lower()
            for line in self.allowed_origins.splitlines()
            if line.strip()
        }


class FormField(models.Model):
    """One field of a capture form: which field of the lead it fills, its label, required or not."""

    class Name(models.TextChoices):
        EMAIL = "email", _("E-mail")
        FIRST_NAME = "first_name", _("First name")
        LAST_NAME = "last_name", _("Last name")
        COMPANY = "company_name", _("Company")
        JOB_TITLE = "job_title", _("Job title")
        PHONE = "phone", _("Phone")
        COUNTRY = "country", _("Country")
        CITY = "city", _("City")

    form = models.ForeignKey(
        CaptureForm, on_delete=models.CASCADE, related_name="fields", verbose_name=_("form")
    )
    name = models.CharField(_("lead field"), max_length=20, choices=Name.choices)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    label_de = models.CharField(_("label (German)"), max_length=100, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "name"], name="capture_field_once_per_form")
        ]

    def __str__(self) -> str:
        return self.get_name_display()


class FormSubmission(models.Model):
    """One accepted submission of a capture form: the lead it created or updated, its
    ``form_submit`` event and the consent it recorded."""

    form = models.ForeignKey(
        CaptureForm, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("form")
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="form_submissions", verbose_name=_("lead")
    )
    created_lead = models.BooleanField(_("new lead"))
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("event")
    )
    consent = models.ForeignKey(
        Consent, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("consent")
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["form", "-submitted_at"], name="capture_submission_form")]

    def __str__(self) -> str:
        return f"{self.form} · {self.lead_id}"


class OutboundEmail(models.Model):
    """An e-mail LeadCRM sends a lead (the double opt-in confirmation): kept, so staff can see
    what went out and when, also where no mail server is configured (``make run``)."""

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("lead")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

"""Behaviour events: what a lead or an anonymous visitor did, and the keys that make them
idempotent."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models.lead import Campaign, Lead


class EventKind(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    PRICING_PAGE_VIEW = "pricing_page_view", _("Pricing page view")
    CAREERS_PAGE_VIEW = "careers_page_view", _("Careers page view")
    FORM_SUBMIT = "form_submit", _("Form submitted")
    DOWNLOAD = "download", _("Download")
    NEWSLETTER_SIGNUP = "newsletter_signup", _("Newsletter sign-up")
    WEBINAR_REGISTERED = "webinar_registered", _("Webinar registration")
    WEBINAR_ATTENDED = "webinar_attended", _("Webinar attended")
    EMAIL_OPEN = "email_open", _("E-mail opened")
    EMAIL_CLICK = "email_click", _("E-mail link clicked")
    DEMO_REQUEST = "demo_request", _("Demo request")
    QUOTE_REQUEST = "quote_request", _("Quote request")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")


class Event(models.Model):
    """One behaviour fact. The biggest table: see docs/architecture.md, "Events at scale", for
    its indexes and how it is partitioned by id range (ids grow with time) when it grows."""

    # db_index=False: the composite indexes below start with these columns and serve the joins.
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("lead"),
        db_index=False,
    )
    visitor_id = models.CharField(_("visitor id"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    url = models.URLField(_("URL"), max_length=2000, blank=True)
    asset = models.CharField(_("asset"), max_length=255, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("campaign"),
        db_index=False,
    )
    occurred_at = models.DateTimeField(_("occurred"), default=timezone.now)
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lead__isnull=False) | ~models.Q(visitor_id=""),
                name="event_has_lead_or_visitor",
            )
        ]
        indexes = [
            # A lead's timeline and "did this lead do X since Y" (scoring, sequence branches).
            models.Index(fields=["lead", "-occurred_at"], name="event_lead_at"),
            # Linking a visitor's anonymous events to the lead who identified: only those rows.
            models.Index(
                fields=["visitor_id", "occurred_at"],
                condition=models.Q(lead__isnull=True),
                name="event_anonymous_visitor",
            ),
            # Reports per campaign and period.
            models.Index(fields=["campaign", "occurred_at"], name="event_campaign_at"),
            # "kind X in the last N days" (decay jobs, reports, segments).
            models.Index(fields=["kind", "occurred_at"], name="event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class Visitor(models.Model):
    """A browser seen by the website tracking (its first-party visitor id), counted per campaign
    (its first or its last, as the report's attribution says) for the visitor → lead conversion;
    ``lead`` is set once the visitor identifies itself.
    Kept set-based by ``leads.event_services.events_record_bulk`` and ``visitor_link``."""

    visitor_id = models.CharField(_("visitor id"), max_length=64, unique=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    first_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first campaign"),
        db_index=False,
    )
    # The campaign of the latest hit that carried one (last-touch reports). No index: reports
    # read the visitors first seen in their period whatever the attribution, and every index
    # costs a write on the tracking path.
    last_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last campaign"),
        db_index=False,
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visitors",
        verbose_name=_("lead"),
    )

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        indexes = [
            # Visitors and identified visitors per campaign (leads.selectors.campaign_visitors).
            models.Index(fields=["first_campaign", "first_seen"], name="visitor_campaign_seen"),
        ]

    def __str__(self) -> str:
        return self.visitor_id


class EventKey(models.Model):
    """An idempotency key already stored: a retried pixel, click or API batch item whose key is
    here is not stored again. A table of its own, because a unique index on the event table
    could not survive partitioning (it would have to include the partition key); keys are
    pruned after a retention period by a periodic task."""

    key = models.CharField(_("idempotency key"), max_length=100, primary_key=True)
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("event idempotency key")
        verbose_name_plural = _("event idempotency keys")

    def __str__(self) -> str:
        return self.key

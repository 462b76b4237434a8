"""Opportunities and the pipeline they move through."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leads.models.lead import Lead


class NamedInTwoLanguages(models.Model):
    """A row of a list admins keep, named in English and German (the English name where no
    German one is kept)."""

    name = models.CharField(_("name (English)"), max_length=100)
    name_de = models.CharField(_("name (German)"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language."""
        if (get_language() or "").startswith("de") and self.name_de:
            return self.name_de
        return self.name


class PipelineStage(NamedInTwoLanguages):
    """An open step of the opportunity pipeline (Discovery, Proposal, Negotiation …): a column
    of the board. Won and lost are not steps but the end (``Opportunity.status``)."""

    position = models.PositiveSmallIntegerField(_("position"), default=100)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"),
        default=10,
        validators=[MaxValueValidator(100)],
        help_text=_("An opportunity moved here gets this probability."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["position", "id"]


class LostReason(NamedInTwoLanguages):
    """Why an opportunity was lost: a list admins keep (deactivated, not deleted, once used)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["position", "name"]


class Opportunity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="opportunities", verbose_name=_("lead")
    )
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_margin = models.DecimalField(
        _("expected gross margin"), max_digits=14, decimal_places=2, default=Decimal(0)
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=4, choices=Status.choices, default=Status.OPEN
    )
    lost_reason = models.CharField(_("lost reason"), max_length=255, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    pipeline_stage = models.ForeignKey(
        PipelineStage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("pipeline stage"),
    )
    lost_because = models.ForeignKey(
        LostReason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("lost because"),
    )
    gross_margin = models.DecimalField(
        _("gross margin (won)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="opp_prob_le_100")
        ]
        indexes = [models.Index(fields=["status", "closed_at"], name="opportunity_status")]

    def __str__(self) -> str:
        return self.name

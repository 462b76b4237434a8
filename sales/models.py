from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads.lifecycle import Stage
from leads.models import Lead, NamedInTwoLanguages, StageTransition

# The criteria, in the order the form shows them: (field name, label, hint for the rep).
BANT = [
    ("budget", _("Budget"), _("Is money set aside, and how much?")),
    ("authority", _("Authority"), _("Who decides, and are we talking to them?")),
    ("need", _("Need"), _("Which problem must be solved?")),
    ("timing", _("Timing"), _("By when must it be solved?")),
]
MEDDIC = [
    ("metrics", _("Metrics"), _("Which measurable gain does the customer expect?")),
    ("economic_buyer", _("Economic buyer"), _("Who signs off the money?")),
    ("decision_criteria", _("Decision criteria"), _("How will they compare offers?")),
    ("decision_process", _("Decision process"), _("Which steps and people until the order?")),
    ("identified_pain", _("Identified pain"), _("What does the problem cost them today?")),
    ("champion", _("Champion"), _("Who sells for us on the inside?")),
]
BANT_FIELDS = [name for name, _label, _hint in BANT]
MEDDIC_FIELDS = [name for name, _label, _hint in MEDDIC]
CRITERIA_LABELS = {name: label for name, label, _hint in [*BANT, *MEDDIC]}


class QualificationPolicy(models.Model):
    """The one row (pk 1) saying how much must be confirmed before sales accepts an MQL."""

    bant_minimum = models.PositiveSmallIntegerField(
        _("BANT criteria to confirm"),
        default=3,
        validators=[MaxValueValidator(len(BANT))],
        help_text=_("How many of budget, authority, need and timing must be confirmed (0–4)."),
    )
    meddic_minimum = models.PositiveSmallIntegerField(
        _("MEDDIC criteria to confirm"),
        default=0,
        validators=[MaxValueValidator(len(MEDDIC))],
        help_text=_("How many of the six MEDDIC criteria must be confirmed (0–6)."),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("qualification policy")
        verbose_name_plural = _("qualification policies")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="qualification_policy_single"),
            models.CheckConstraint(
                condition=models.Q(bant_minimum__lte=len(BANT)), name="policy_bant_minimum"
            ),
            models.CheckConstraint(
                condition=models.Q(meddic_minimum__lte=len(MEDDIC)), name="policy_meddic_minimum"
            ),
        ]

    def __str__(self) -> str:
        return f"BANT ≥ {self.bant_minimum}/4, MEDDIC ≥ {self.meddic_minimum}/6"


def _confirmed_label(label) -> str:
    return gettext("%(criterion)s confirmed") % {"criterion": label}


def _criterion(label) -> tuple[models.TextField, models.BooleanField]:
    return (
        models.TextField(label, blank=True, max_length=2000),
        models.BooleanField(lazy(_confirmed_label, str)(label), default=False),
    )


class Qualification(models.Model):
    """What sales found out about a lead, BANT and MEDDIC: each criterion a text and whether the
    lead confirmed it. One per lead, kept after acceptance as the record of why it was accepted."""

    lead = models.OneToOneField(
        Lead, on_delete=models.CASCADE, related_name="qualification", verbose_name=_("lead")
    )
    budget, budget_confirmed = _criterion(_("Budget"))
    authority, authority_confirmed = _criterion(_("Authority"))
    need, need_confirmed = _criterion(_("Need"))
    timing, timing_confirmed = _criterion(_("Timing"))
    metrics, metrics_confirmed = _criterion(_("Metrics"))
    economic_buyer, economic_buyer_confirmed = _criterion(_("Economic buyer"))
    decision_criteria, decision_criteria_confirmed = _criterion(_("Decision criteria"))
    decision_process, decision_process_confirmed = _criterion(_("Decision process"))
    identified_pain, identified_pain_confirmed = _criterion(_("Identified pain"))
    champion, champion_confirmed = _criterion(_("Champion"))
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last changed by"),
    )

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")

    def __str__(self) -> str:
        return f"{self.lead_id}: BANT {self.bant_confirmed}/4, MEDDIC {self.meddic_confirmed}/6"

    @property
    def bant_confirmed(self) -> int:
        return sum(getattr(self, f"{name}_confirmed") for name in BANT_FIELDS)

    @property
    def meddic_confirmed(self) -> int:
        return sum(getattr(self, f"{name}_confirmed") for name in MEDDIC_FIELDS)


class RejectionReason(NamedInTwoLanguages):
    """Why sales sends an MQL back: a list admins keep. A reason in use is deactivated, not
    deleted, so past rejections keep theirs."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    requires_note = models.BooleanField(
        _("note required"), default=False, help_text=_("The rep must explain (e.g. “Other”).")
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")
        ordering = ["position", "name"]


class Rejection(models.Model):
    """An MQL sales sent back: why, where to and by whom. Marketing reads these per campaign."""

    class ToStage(models.TextChoices):
        NURTURE = Stage.NURTURE.value, Stage.NURTURE.label
        DISQUALIFIED = Stage.DISQUALIFIED.value, Stage.DISQUALIFIED.label

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="rejections", verbose_name=_("lead")
    )
    reason = models.ForeignKey(
        RejectionReason,
        on_delete=models.PROTECT,
        related_name="rejections",
        verbose_name=_("reason"),
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    to_stage = models.CharField(_("sent to"), max_length=12, choices=ToStage.choices)
    # The lead's first campaign when it was rejected: first-touch attribution, as in reports.
    campaign = models.ForeignKey(
        "leads.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
    )
    transition = models.OneToOneField(
        StageTransition,
        on_delete=models.CASCADE,
        related_name="rejection",
        verbose_name=_("stage transition"),
    )
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
        verbose_name = _("rejection")
        verbose_name_plural = _("rejections")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at", "campaign", "reason"], name="rejection_at")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.reason}"

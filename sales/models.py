from datetime import datetime, time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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


# Assignment and SLA ----------------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def default_workdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class Team(models.Model):
    """A sales team: its managers, its reps (RepProfile.team), and the business calendar its
    SLA counts in. New MQLs reach a team through an AssignmentRule and go round-robin to its
    available reps."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_teams",
        verbose_name=_("managers"),
    )
    # Weekday values (Monday 0 … Sunday 6): the days the team works.
    workdays = models.JSONField(_("working days"), default=default_workdays)
    day_starts = models.TimeField(_("working day starts"), default=time(9, 0))
    day_ends = models.TimeField(_("working day ends"), default=time(17, 0))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    sla_hours = models.PositiveSmallIntegerField(
        _("SLA (business hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
        help_text=_("Business hours a rep has to accept or reject a new MQL."),
    )
    # The round-robin level: the fewest leads an available rep of the team has been given. A rep
    # who joins, comes back or has room again starts here: neither skipped nor flooded.
    level = models.PositiveIntegerField(_("round-robin level"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_ends__gt=models.F("day_starts")), name="team_day_order"
            ),
            models.CheckConstraint(condition=models.Q(sla_hours__gte=1), name="team_sla_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name

    def workday_labels(self) -> list[str]:
        return [str(Weekday(day).label) for day in sorted(self.workdays)]


class RepProfile(models.Model):
    """What assignment knows about a sales rep (or manager): the team, whether they are away,
    how many open leads they can hold, and whether they want e-mails about new leads."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rep_profile",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("Most open MQLs and SQLs the rep holds; empty: no limit."),
    )
    away = models.BooleanField(_("away"), default=False)
    away_until = models.DateTimeField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("Back automatically at this time; empty: away until switched back."),
    )
    notify_by_email = models.BooleanField(
        _("e-mail me about new leads"),
        default=False,
        help_text=_("An e-mail for each lead assigned to you and each overdue escalation."),
    )
    # Round-robin: leads given to the rep in the current team, and when the last one came.
    assigned_count = models.PositiveIntegerField(_("leads assigned"), default=0, editable=False)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("rep profile")
        verbose_name_plural = _("rep profiles")
        indexes = [models.Index(fields=["team", "assigned_count"], name="repprofile_team")]

    def __str__(self) -> str:
        return str(self.user)

    def is_away(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.away and (self.away_until is None or self.away_until > now)


class AssignmentRule(models.Model):
    """Which team new MQLs go to: the first active rule (by position) whose conditions the lead
    meets and whose team has an available rep takes it. Empty conditions match every lead."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="rules", verbose_name=_("team")
    )
    # ISO 3166 country codes: a territory (e.g. DACH = DE, AT, CH). Empty: any country.
    countries = models.JSONField(_("countries"), default=list, blank=True)
    # leads.models.Industry values of the lead's company. Empty: any industry.
    industries = models.JSONField(_("industries"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def matches(self, *, country: str, industry: str) -> bool:
        return (not self.countries or country in self.countries) and (
            not self.industries or industry in self.industries
        )


class Assignment(models.Model):
    """A lead given to a rep, by a rule or by a person; the SLA clock for an MQL runs from here
    until the rep accepts or rejects it (``sla_closed_at``), and escalates once when it is due."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("lead")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    rule = models.ForeignKey(
        AssignmentRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rule"),
    )
    # The rule's name at the time (the rule may be renamed or deleted later).
    rule_name = models.CharField(_("rule name"), max_length=100, blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by user"),
    )
    at = models.DateTimeField(_("assigned"), default=timezone.now)
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    sla_closed_at = models.DateTimeField(_("SLA closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="assignment_lead_at"),
            # The escalation sweep reads only running, not yet escalated clocks.
            models.Index(
                fields=["sla_due_at"],
                condition=models.Q(sla_closed_at__isnull=True, escalated_at__isnull=True),
                name="assignment_sla_running",
            ),
        ]
        constraints = [
            # The running assignment is the current owner's: a lead never has two.
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(sla_closed_at__isnull=True),
                name="assignment_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.owner_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Lead assigned to you")
        # A lead the user already owns became an MQL: their SLA clock starts.
        MQL = "mql", _("Your lead became an MQL")
        # Someone else gave the user's lead to another owner (the assignment is the new one).
        REASSIGNED = "reassigned", _("Lead reassigned")
        SLA_OVERDUE = "sla_overdue", _("MQL not accepted in time")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("assignment"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set when the e-mail is claimed for sending: one e-mail per notification at most.
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            # One notification per assignment and kind: a repeated task adds nothing.
            models.UniqueConstraint(
                fields=["assignment", "kind", "recipient"], name="notification_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_id}"

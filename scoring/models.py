"""Scoring: a profile with its thresholds, grade rules (fit) and behaviour rules (engagement).

The results live in ``leads``: fit points and behaviour score in ``LeadScore`` (one narrow row per
lead, cheap to rewrite), grade, rank and temperature on the lead itself, so lists filter and sort
on them; the ledger of ``ScoreEntry`` rows explains every behaviour point.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Event, EventKind, Lead

DEFAULT_HOT_RANKS = ["A1", "A2", "B1"]
DEFAULT_WARM_RANKS = ["A3", "B2", "B3", "C1", "C2"]


class ScoringProfile(models.Model):
    """The thresholds that turn points into grade, band, rank, temperature and MQL. One profile is
    active at a time; each save is a new version (see ProfileVersion)."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    grade_a_min = models.IntegerField(_("grade A from (fit points)"), default=75)
    grade_b_min = models.IntegerField(_("grade B from (fit points)"), default=50)
    grade_c_min = models.IntegerField(_("grade C from (fit points)"), default=25)
    band_1_min = models.FloatField(_("band 1 from (behaviour score)"), default=75)
    band_2_min = models.FloatField(_("band 2 from (behaviour score)"), default=50)
    band_3_min = models.FloatField(_("band 3 from (behaviour score)"), default=25)
    half_life_days = models.PositiveSmallIntegerField(
        _("half-life of behaviour points (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    hot_ranks = models.JSONField(_("hot ranks"), default=list)
    warm_ranks = models.JSONField(_("warm ranks"), default=list)
    mql_grades = models.CharField(
        _("grades that can become MQL"), max_length=4, default="AB", help_text=_("e.g. AB")
    )
    mql_min_score = models.FloatField(_("MQL from behaviour score"), default=50)
    version = models.PositiveIntegerField(_("version"), default=1)
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
        verbose_name = _("scoring profile")
        verbose_name_plural = _("scoring profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="scoring_one_active_profile",
            ),
            models.CheckConstraint(
                condition=models.Q(grade_a_min__gt=models.F("grade_b_min"))
                & models.Q(grade_b_min__gt=models.F("grade_c_min")),
                name="scoring_grade_thresholds_descend",
            ),
            models.CheckConstraint(
                condition=models.Q(band_1_min__gt=models.F("band_2_min"))
                & models.Q(band_2_min__gt=models.F("band_3_min")),
                name="scoring_band_thresholds_descend",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ProfileVersion(models.Model):
    """What a profile and its rules looked like after a save: who, when, what."""

    profile = models.ForeignKey(
        ScoringProfile, on_delete=models.CASCADE, related_name="versions", verbose_name=_("profile")
    )
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    saved_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("profile version")
        verbose_name_plural = _("profile versions")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "version"], name="scoring_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} v{self.version}"


class GradeRule(models.Model):
    """Fit points for what we know about the lead and its company."""

    class Field(models.TextChoices):
        JOB_TITLE = "job_title", _("Job title")
        SENIORITY = "seniority", _("Seniority")
        INDUSTRY = "company__industry", _("Industry")
        COMPANY_SIZE = "company__size_band", _("Company size")
        ANNUAL_REVENUE = "company__annual_revenue", _("Annual revenue")
        COUNTRY = "country", _("Country")
        CITY = "city", _("City")
        AGE_BAND = "age_band", _("Age band")

    class Operator(models.TextChoices):
        CONTAINS = "contains", _("contains any of")
        IN = "in", _("is one of")
        AT_LEAST = "gte", _("is at least")
        AT_MOST = "lte", _("is at most")

    profile = models.ForeignKey(
        ScoringProfile,
        on_delete=models.CASCADE,
        related_name="grade_rules",
        verbose_name=_("profile"),
    )
    field = models.CharField(_("field"), max_length=30, choices=Field.choices)
    operator = models.CharField(_("operator"), max_length=10, choices=Operator.choices)
    value = models.CharField(
        _("value"), max_length=500, help_text=_("Several values separated by commas")
    )
    points = models.SmallIntegerField(
        _("points"), validators=[MinValueValidator(-100), MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("grade rule")
        verbose_name_plural = _("grade rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return (
            f"{self.get_field_display()} {self.get_operator_display()} {self.value}: "
            f"{self.points:+d}"
        )


class BehaviourRule(models.Model):
    """Behaviour points for an event kind, optionally only for URLs or assets that match."""

    class Frequency(models.TextChoices):
        EVERY_TIME = "every_time", _("every time")
        ONCE_PER_DAY = "once_per_day", _("once per day")
        ONCE_EVER = "once_ever", _("once ever")

    profile = models.ForeignKey(
        ScoringProfile,
        on_delete=models.CASCADE,
        related_name="behaviour_rules",
        verbose_name=_("profile"),
    )
    name = models.CharField(_("name"), max_length=100)
    event_kind = models.CharField(_("event kind"), max_length=20, choices=EventKind.choices)
    pattern = models.CharField(
        _("URL or asset pattern"),
        max_length=255,
        blank=True,
        help_text=_("Optional; * matches anything, e.g. */pricing* or *competitor.com*"),
    )
    points = models.SmallIntegerField(
        _("points"), validators=[MinValueValidator(-100), MaxValueValidator(100)]
    )
    frequency = models.CharField(
        _("fires"), max_length=15, choices=Frequency.choices, default=Frequency.EVERY_TIME
    )
    cap_points = models.PositiveSmallIntegerField(
        _("at most (points)"), null=True, blank=True, help_text=_("Optional cap per period")
    )
    cap_days = models.PositiveSmallIntegerField(
        _("per (days)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("behaviour rule")
        verbose_name_plural = _("behaviour rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cap_points__isnull=True, cap_days__isnull=True)
                | models.Q(cap_points__isnull=False, cap_days__isnull=False),
                name="scoring_cap_has_points_and_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.points:+d}"


class ScoreEntry(models.Model):
    """One application of a behaviour rule: the ledger that explains a lead's behaviour score.
    ``at`` is when the event occurred: decay counts from then."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="score_entries", verbose_name=_("lead")
    )
    # A deleted rule takes its points with it: the ledger explains the score under today's rules.
    rule = models.ForeignKey(
        BehaviourRule,
        on_delete=models.CASCADE,
        related_name="entries",
        verbose_name=_("rule"),
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="+", verbose_name=_("event"), db_index=False
    )
    points = models.SmallIntegerField(_("points"))
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        ordering = ["-at", "-id"]
        constraints = [
            # An event is scored once per rule, however often it is delivered or replayed.
            models.UniqueConstraint(fields=["event", "rule"], name="scoring_entry_once")
        ]
        indexes = [models.Index(fields=["lead", "rule", "at"], name="scoring_entry_lead_rule")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.points:+d} @ {self.at:%Y-%m-%d}"


class MqlReview(models.Model):
    """An MQL whose score or grade fell below the MQL condition: not moved back silently, but
    put in front of a person to decide (back to nurture, or keep)."""

    lead = models.OneToOneField(
        Lead, on_delete=models.CASCADE, related_name="mql_review", verbose_name=_("lead")
    )
    flagged_at = models.DateTimeField(_("flagged"), default=timezone.now)
    behaviour_score = models.FloatField(_("behaviour score when flagged"))
    grade = models.CharField(_("grade when flagged"), max_length=1)

    class Meta:
        verbose_name = _("MQL to review")
        verbose_name_plural = _("MQLs to review")
        ordering = ["-flagged_at"]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.grade} {self.behaviour_score:.0f}"


class Rescoring(models.Model):
    """A proposed change of the profile and its rules, previewed (what would change, nothing kept)
    or applied (saved as a new version, then every lead rescored), run by a Celery task."""

    class Kind(models.TextChoices):
        PREVIEW = "preview", _("preview")
        APPLY = "apply", _("save and rescore")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    profile = models.ForeignKey(
        ScoringProfile,
        on_delete=models.CASCADE,
        related_name="rescorings",
        verbose_name=_("profile"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # The profile version the proposal was made against: a save over a newer version is refused.
    base_version = models.PositiveIntegerField(_("based on version"))
    proposal = models.JSONField(_("proposal"))
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("rescoring")
        verbose_name_plural = _("rescorings")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

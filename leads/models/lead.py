"""Leads, their companies and campaigns, their scores and their stage history."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower, Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from leads.lifecycle import OWNER_REQUIRED, Stage
from leads.models.choices import (
    AgeBand,
    Channel,
    CompanySize,
    Grade,
    Industry,
    Language,
    Seniority,
    Temperature,
)


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # Normalised by leads.normalize.normalize_domain: the key companies deduplicate on. Two
    # companies may share a name, never a domain.
    domain = models.CharField(_("web domain"), max_length=253, blank=True)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, blank=True)
    size_band = models.CharField(
        _("company size"), max_length=10, choices=CompanySize.choices, blank=True
    )
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    revenue_currency = models.CharField(_("currency"), max_length=3, default="EUR")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~models.Q(domain=""), name="company_domain_unique"
            ),
        ]
        # The lead list's "Company" sort walks companies in name order (leads.listing.SORTS).
        indexes = [models.Index(Lower("name"), "id", name="company_name_sort")]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    name = models.CharField(_("name"), max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # What marketing means to spend (reports show it beside the costs entered); empty: no budget.
    budget = models.DecimalField(
        _("budget"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    # Database default too: bench.generate's COPY leaves it out.
    budget_currency = models.CharField(
        _("budget currency"), max_length=3, default="EUR", db_default="EUR"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignCost(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="costs", verbose_name=_("campaign")
    )
    incurred_on = models.DateField(_("date"))
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        ordering = ["-incurred_on"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="cost_gte_0")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.incurred_on}: {self.amount} {self.currency}"


RANKS = [f"{grade}{band}" for grade in "ABCD" for band in "1234"]
# Lead.rank_order: the rank as a number, best highest (A1 = 16 … D4 = 1).
RANK_ORDER = {rank: len(RANKS) - position for position, rank in enumerate(RANKS)}


class Lead(models.Model):
    email = models.EmailField(_("e-mail"), max_length=254)
    # leads.normalize.normalize_email(email): trimmed, lower-cased, domain IDNA-encoded. Its unique
    # index serves dedup, upserts (ON CONFLICT) and the prefix search of the lead list.
    email_key = models.CharField(_("normalised e-mail"), max_length=254, editable=False)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    seniority = models.CharField(
        _("seniority"), max_length=10, choices=Seniority.choices, blank=True
    )
    country = CountryField(_("country"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    age_band = models.CharField(_("age band"), max_length=5, choices=AgeBand.choices, blank=True)
    company = models.ForeignKey(
        Company,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("company"),
        # lead_company (company, id) below serves the foreign key and the "Company" sort.
        db_index=False,
    )

    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.UNQUALIFIED
    )
    stage_changed_at = models.DateTimeField(_("stage changed"), default=timezone.now)
    # PROTECT: an SQL or opportunity must keep its owner; deactivate users instead of deleting them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        verbose_name=_("owner"),
    )

    # Scoring results that change seldom (a grade or band crossing), here so that lists filter
    # and sort on them without a join. The points behind them, which change with every scored
    # event and every rule change, live in LeadScore (one narrow row per lead).
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, default=Grade.D)
    rank = models.CharField(_("rank"), max_length=2, default="D4")
    temperature = models.CharField(
        _("temperature"), max_length=4, choices=Temperature.choices, default=Temperature.COLD
    )
    # The rank as a number, best highest (A1 = 16 … D4 = 1), kept by the database. "Best rank"
    # sorts on it descending, then age descending: one direction throughout, so the keyset cursor
    # is a single row comparison that the lead_best_rank index answers at any depth (rank
    # ascending beside a descending date could not be one range of one index).
    rank_order = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(rank=rank, then=models.Value(order))
                for rank, order in RANK_ORDER.items()
            ),
            default=models.Value(0),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("rank order"),
    )

    source_channel = models.CharField(
        _("source channel"), max_length=20, choices=Channel.choices, default=Channel.DIRECT
    )
    first_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="first_touch_leads",
        verbose_name=_("first campaign"),
    )
    last_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="last_touch_leads",
        verbose_name=_("last campaign"),
    )
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=100, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=100, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        permissions = [("transition_lead", _("Can move a lead to another stage"))]
        constraints = [
            # varchar_pattern_ops (PostgreSQL; ignored elsewhere) lets the same index serve
            # `email_key LIKE 'prefix%'` under any collation, so one index does all three jobs.
            # On PostgreSQL the index also INCLUDEs created_at and id, so the search's e-mail
            # arm is read index only (migrations 0020, 0021). Not declared here: SQLite cannot
            # INCLUDE, and Django then skips the constraint altogether (models.W039).
            models.UniqueConstraint(
                fields=["email_key"],
                opclasses=["varchar_pattern_ops"],
                name="lead_email_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=Stage.values), name="lead_stage_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(stage__in=sorted(OWNER_REQUIRED))
                | models.Q(owner__isnull=False),
                name="lead_owner_required",
            ),
            models.CheckConstraint(
                condition=models.Q(grade__in=Grade.values), name="lead_grade_valid"
            ),
            models.CheckConstraint(condition=models.Q(rank__in=RANKS), name="lead_rank_valid"),
            # The rank is the grade and a band (A1 = grade A, band 1): the list's grade filter
            # reads rank_order, the rank as a number, and relies on this.
            models.CheckConstraint(
                condition=models.Q(rank__startswith=models.F("grade")), name="lead_rank_of_grade"
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__in=Temperature.values),
                name="lead_temperature_valid",
            ),
        ]
        indexes = [
            # The list page and API: filter by stage (and owner), newest first, keyset-paginated.
            models.Index(fields=["stage", "owner", "-created_at", "-id"], name="lead_stage_owner"),
            models.Index(fields=["owner", "-created_at", "-id"], name="lead_owner_created"),
            models.Index(fields=["-created_at", "-id"], name="lead_created"),
            # The "Name" sort, whole: its keyset cursor is one row comparison on these three.
            models.Index(Lower("last_name"), Lower("first_name"), "id", name="lead_name_sort"),
            # "Best rank" on the page and ?ordering=rank in the API, also filtered by rank
            # (leads.filters turns ?rank= into rank_order IN (…), this index's first column).
            models.Index(fields=["-rank_order", "-created_at", "-id"], name="lead_best_rank"),
            # One index per remaining sort of the lead list and API (leads.listing.SORTS),
            # each ending in id like the keyset cursor; migration 0012 says what each costs.
            # A rep's own leads best rank first: the queue and ?owner=…&ordering=rank.
            models.Index(
                fields=["owner", "-rank_order", "-created_at", "-id"], name="lead_owner_rank"
            ),
            models.Index(fields=["-stage_changed_at", "-id"], name="lead_stage_changed"),
            models.Index(fields=["-updated_at", "-id"], name="lead_updated"),
            # created_at: the search's company arm read index only (migration 0020).
            models.Index(fields=["company", "id"], include=["created_at"], name="lead_company"),
            # Filters too rare to find 50 rows quickly by walking a sort's index, counted
            # index-only: the temperature (hot is a few per cent) and the channel.
            models.Index(fields=["temperature", "-created_at", "-id"], name="lead_temperature"),
            models.Index(fields=["source_channel", "-created_at", "-id"], name="lead_channel"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Every lead has its score row, so score sorts join it inside (see LeadScore).
            LeadScore.objects.create(lead=self, temperature=self.temperature)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class LeadScore(models.Model):
    """A lead's fit points and behaviour score, written by the scoring app.

    One narrow row per lead instead of two columns of ``leads_lead``: a rule change or the
    nightly decay rewrites up to every lead's score, and a row of ``leads_lead`` carries some
    fifteen indexes, each rewritten with it (50 to 70 µs a lead against about 9 here; measured in
    docs/benchmarks.md, "Scoring"). Grade, rank and temperature stay on the lead: they change
    only when a lead crosses a threshold, and the list filters and sorts on them.

    ``temperature`` is a copy of the lead's, written with it (``scoring.services``), for one
    index: the hot leads by score (``leadscore_hot``), which the list's "Hot leads" view reads.
    Without it, "hot by score" walked every score in order and looked each lead up for its
    temperature: some 14,000 lookups to find 50 hot leads among 1,000,000.
    """

    lead = models.OneToOneField(
        Lead,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("lead"),
    )
    fit_points = models.IntegerField(_("fit points"), default=0)
    # Σ points * 0.5^(age / half-life) as of scored_at, unrounded: the nightly decay multiplies
    # it by 0.5^((now - scored_at) / half-life), which equals the sum as of now, without reading
    # the ledger. Shown rounded.
    behaviour_score = models.FloatField(_("behaviour score"), default=0.0)
    scored_at = models.DateTimeField(_("scored at"), db_default=Now())
    temperature = models.CharField(
        _("temperature"),
        max_length=4,
        choices=Temperature.choices,
        default=Temperature.COLD,
        db_default=Temperature.COLD,
    )

    class Meta:
        verbose_name = _("lead score")
        verbose_name_plural = _("lead scores")
        indexes = [
            # "Highest score": read in order from here, joined to the leads by primary key.
            models.Index(fields=["-behaviour_score", "-lead"], name="leadscore_score"),
            # The hot leads by score. Partial: a score update writes an entry here only for a
            # hot lead (a few per cent), so the nightly decay of every score barely feels it.
            models.Index(
                fields=["-behaviour_score", "-lead"],
                condition=models.Q(temperature=Temperature.HOT),
                name="leadscore_hot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.fit_points} / {self.behaviour_score:.1f}"


class StageTransition(models.Model):
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("lead")
    )
    from_stage = models.CharField(_("from"), max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=12, choices=Stage.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by user"),
    )
    by_rule = models.CharField(_("by rule"), max_length=100, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="transition_lead_at"),
            models.Index(fields=["to_stage", "at"], name="transition_to_at"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage or '∅'} → {self.to_stage}"

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower, Now
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from leads.lifecycle import OWNER_REQUIRED, Stage


class Channel(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    WEBINAR = "webinar", _("Webinar")
    EBOOK = "ebook", _("E-book / white paper")
    SEO = "seo", _("SEO / organic search")
    SOCIAL = "social", _("Social media")
    ADS = "ads", _("Paid search / ads")
    COLD_EMAIL = "cold_email", _("Cold e-mail")
    COLD_CALL = "cold_call", _("Cold call")
    TRADE_FAIR = "trade_fair", _("Trade fair")
    REFERRAL = "referral", _("Referral")
    PURCHASED_LIST = "purchased_list", _("Purchased list")
    DIRECT = "direct", _("Direct / manual entry")
    OTHER = "other", _("Other")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Temperature(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class Seniority(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")
    DIRECTOR = "director", _("Director")
    VP = "vp", _("Vice president")
    C_LEVEL = "c_level", _("C-level / owner")


class CompanySize(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    S1_10 = "1-10", _("1–10 employees")
    S11_50 = "11-50", _("11–50 employees")
    S51_200 = "51-200", _("51–200 employees")
    S201_1000 = "201-1000", _("201–1,000 employees")
    S1001_5000 = "1001-5000", _("1,001–5,000 employees")
    S5001_PLUS = "5001+", _("More than 5,000 employees")


class Industry(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    SOFTWARE = "software", _("Software")
    IT_SERVICES = "it_services", _("IT services")
    TELECOMMUNICATIONS = "telecommunications", _("Telecommunications")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    MECHANICAL_ENGINEERING = "mechanical_engineering", _("Mechanical engineering")
    AUTOMOTIVE = "automotive", _("Automotive")
    CHEMICALS = "chemicals", _("Chemicals")
    ENERGY = "energy", _("Energy")
    CONSTRUCTION = "construction", _("Construction")
    LOGISTICS = "logistics", _("Logistics")
    RETAIL = "retail", _("Retail and e-commerce")
    FINANCIAL_SERVICES = "financial_services", _("Financial services")
    INSURANCE = "insurance", _("Insurance")
    HEALTHCARE = "healthcare", _("Healthcare")
    PHARMA = "pharma", _("Pharmaceuticals")
    CONSULTING = "consulting", _("Consulting")
    EDUCATION = "education", _("Education")
    PUBLIC_SECTOR = "public_sector", _("Public sector")
    MEDIA = "media", _("Media and publishing")
    HOSPITALITY = "hospitality", _("Hospitality and tourism")
    REAL_ESTATE = "real_estate", _("Real estate")
    NON_PROFIT = "non_profit", _("Non-profit")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    """The languages LeadCRM speaks to a lead in (e-mails, landing pages): settings.LANGUAGES."""

    ENGLISH = "en", _("English")
    GERMAN = "de", _("German")


class AgeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    A18_24 = "18-24", "18–24"
    A25_34 = "25-34", "25–34"
    A35_44 = "35-44", "35–44"
    A45_54 = "45-54", "45–54"
    A55_64 = "55-64", "55–64"
    A65_PLUS = "65+", "65+"


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
            # `email_key LIKE 'prefix%'` under any collation, so one index does all three jobs;
            # with created_at and id it answers the search's e-mail arm index only (0020).
            models.UniqueConstraint(
                fields=["email_key"],
                opclasses=["varchar_pattern_ops"],
                include=["created_at", "id"],
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


class LeadListSettings(models.Model):
    """What one user's lead list remembers: the columns they chose."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="lead_list_settings",
        verbose_name=_("user"),
    )
    columns = models.JSONField(_("columns"), default=list)

    class Meta:
        verbose_name = _("lead list settings")
        verbose_name_plural = _("lead list settings")

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.columns)}"


class SavedView(models.Model):
    """A named lead list: filters and sort (as the list's query string) and columns."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_lead_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters and sort"), max_length=2000, blank=True)
    columns = models.JSONField(_("columns"), default=list)
    shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Everyone who may see the lead list sees it.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = [Lower("name"), "id"]
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="saved_view_name_unique_per_owner")
        ]
        indexes = [
            # The shared views everybody's list offers, without reading everyone's private ones.
            models.Index(
                fields=["shared"], condition=models.Q(shared=True), name="saved_view_shared"
            )
        ]

    def __str__(self) -> str:
        return self.name

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Reports add money up in this currency. An amount in another currency is converted by its row
# in ExchangeRate; a currency without a row makes the report refuse (never summed blindly).
REPORT_CURRENCY = "EUR"

currency_code = RegexValidator(r"^[A-Z]{3}$", _("Enter a three-letter currency code, e.g. USD."))


class ExchangeRate(models.Model):
    """How many units of the report currency one unit of ``currency`` is worth, for reports,
    from ``valid_from`` until the currency's next rate. A currency's earliest rate also counts
    for the days before it, so a first rate never leaves older amounts without one."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code])
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    rate = models.DecimalField(
        _("rate"),
        max_digits=14,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text=_("Value of one unit of this currency in euros."),
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
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_gt_0"),
            # Also the index a conversion looks its rate up by (currency, latest date ≤ day).
            models.UniqueConstraint(fields=["currency", "valid_from"], name="rate_currency_day"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {REPORT_CURRENCY} ({self.valid_from:%Y-%m-%d})"


# --- the rollup the reports read (reporting.rollup.rollup_refresh writes it) -------------------
#
# One row per local day (Europe/Berlin) of lead creation, attribution and attributed campaign
# (``campaign``; for leads without a campaign ``channel`` holds their source channel, for the
# others it is empty: a campaign's channel and direction are read from the campaign when the
# report runs). A lead counts on the day it was created, with what became of it as of the refresh.


class Attribution(models.TextChoices):
    FIRST = "first", _("First touch")
    LAST = "last", _("Last touch")


class RollupKey(models.Model):
    day = models.DateField(_("day"))
    attribution = models.CharField(_("attribution"), max_length=5, choices=Attribution.choices)
    # No database constraint: rows are rebuilt from the leads, never cascaded.
    campaign = models.ForeignKey(
        "leads.Campaign",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.attribution} {self.campaign_id or self.channel}"


class FunnelCounts(RollupKey):
    leads = models.PositiveIntegerField(_("leads"))
    mqls = models.PositiveIntegerField(_("MQLs"))
    sqls = models.PositiveIntegerField(_("SQLs"))
    opportunities = models.PositiveIntegerField(_("opportunities"))
    customers = models.PositiveIntegerField(_("customers"))

    class Meta(RollupKey.Meta):
        abstract = True


class FunnelDay(FunnelCounts):
    """How many leads were created on the day and how many of them reached each funnel stage."""

    class Meta:
        verbose_name = _("funnel day")
        verbose_name_plural = _("funnel days")
        indexes = [models.Index(fields=["attribution", "day"], name="funnelday_attribution_day")]


class FunnelMonth(FunnelCounts):
    """FunnelDay summed over the month (``day``: its first day)."""

    class Meta:
        verbose_name = _("funnel month")
        verbose_name_plural = _("funnel months")
        indexes = [models.Index(fields=["attribution", "day"], name="funnelmonth_attribution_day")]


class StayHistogram(RollupKey):
    stage = models.PositiveSmallIntegerField(_("stage"))  # index in leads.lifecycle.FUNNEL
    days = models.IntegerField(_("days"))
    leads = models.PositiveIntegerField(_("leads"))

    class Meta(RollupKey.Meta):
        abstract = True


class StayDay(StayHistogram):
    """A histogram of the time the day's leads spent in a funnel stage before the next one:
    ``leads`` of them stayed ``days`` whole days (24-hour spans, rounded down) in ``stage``."""

    class Meta:
        verbose_name = _("time in stage")
        verbose_name_plural = _("times in stage")
        indexes = [models.Index(fields=["attribution", "day"], name="stayday_attribution_day")]


class StayMonth(StayHistogram):
    """StayDay summed over the month (``day``: its first day), so that a report over whole
    months reads one row where StayDay has up to 31."""

    class Meta:
        verbose_name = _("time in stage per month")
        verbose_name_plural = _("times in stage per month")
        indexes = [models.Index(fields=["attribution", "day"], name="staymonth_attribution_day")]


class StayMonthTotal(models.Model):
    """StayMonth of all leads, whatever their campaign or channel (the same for both
    attributions): what the dashboard without filters reads, a few rows per month."""

    day = models.DateField(_("month"))
    stage = models.PositiveSmallIntegerField(_("stage"))
    days = models.IntegerField(_("days"))
    leads = models.PositiveIntegerField(_("leads"))

    class Meta:
        verbose_name = _("time in stage per month, all leads")
        verbose_name_plural = _("times in stage per month, all leads")
        indexes = [models.Index(fields=["day"], name="staymonthtotal_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.stage} {self.days}"


class MarginDay(RollupKey):
    """The gross margin the day's leads won, per currency (converted when the report runs, so a
    new exchange rate shows at once)."""

    currency = models.CharField(_("currency"), max_length=3)
    gross_margin = models.DecimalField(_("gross margin"), max_digits=20, decimal_places=2)

    class Meta:
        verbose_name = _("won margin")
        verbose_name_plural = _("won margins")
        indexes = [models.Index(fields=["attribution", "day"], name="marginday_attribution_day")]


class MarginMonth(RollupKey):
    """MarginDay summed over the month (``day``: its first day)."""

    currency = models.CharField(_("currency"), max_length=3)
    gross_margin = models.DecimalField(_("gross margin"), max_digits=20, decimal_places=2)

    class Meta:
        verbose_name = _("won margin per month")
        verbose_name_plural = _("won margins per month")
        indexes = [models.Index(fields=["attribution", "day"], name="marginmonth_attribution_day")]


class RollupState(models.Model):
    """One row: when the rollup was last refreshed. ``as_of``: the moment the last refresh
    started (every change committed before it is in the figures); ``watermark``: where the next
    refresh looks for changes from (a little before the oldest transaction then open)."""

    as_of = models.DateTimeField(_("as of"))
    watermark = models.DateTimeField(_("changes looked for from"))
    rebuilt_at = models.DateTimeField(_("last full rebuild"), null=True, blank=True)
    days = models.PositiveIntegerField(_("days refreshed last time"), default=0)
    seconds = models.FloatField(_("duration of the last refresh"), default=0)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"rollup as of {self.as_of:%Y-%m-%d %H:%M:%S}"

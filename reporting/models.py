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
    """How many units of the report currency one unit of ``currency`` is worth, for reports."""

    currency = models.CharField(
        _("currency"), max_length=3, unique=True, validators=[currency_code]
    )
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
        ordering = ["currency"]
        constraints = [models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_gt_0")]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {REPORT_CURRENCY}"

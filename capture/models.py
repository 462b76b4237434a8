import re

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import EventKind

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

"""What each user keeps of the lead list: chosen columns and saved views."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

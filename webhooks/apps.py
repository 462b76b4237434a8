from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from leads import signals
        from webhooks import receivers

        signals.lead_created.connect(receivers.on_lead_created, dispatch_uid="webhooks.created")
        signals.lead_stage_changed.connect(
            receivers.on_lead_stage_changed, dispatch_uid="webhooks.stage_changed"
        )

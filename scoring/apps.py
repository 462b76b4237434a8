from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from leads import signals
        from scoring import receivers

        signals.lead_created.connect(receivers.on_lead_created, dispatch_uid="scoring.created")
        signals.lead_fields_changed.connect(
            receivers.on_lead_fields_changed, dispatch_uid="scoring.fields_changed"
        )
        signals.event_recorded.connect(receivers.on_event_recorded, dispatch_uid="scoring.event")
        signals.visitor_linked.connect(receivers.on_visitor_linked, dispatch_uid="scoring.visitor")

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender, **kwargs) -> None:
    """The starter profile and the roles' permissions, after every migrate or flush."""
    from django.contrib.auth.models import Group, Permission

    from leadcrm.roles import sync_role_permissions
    from scoring.models import BehaviourRule, GradeRule, ScoringProfile
    from scoring.roles import GRANTS
    from scoring.starter import ensure_starter_profile

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="scoring", grants=GRANTS
    )
    ensure_starter_profile(
        profile_model=ScoringProfile,
        grade_rule_model=GradeRule,
        behaviour_rule_model=BehaviourRule,
    )


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from leads import signals
        from leads.panels import register_detail_panel

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="scoring.after_migrate")
        from scoring import receivers
        from scoring.panels import lead_score_panel

        register_detail_panel(
            name="score", template="scoring/_lead_score.html", context=lead_score_panel, position=10
        )

        signals.lead_created.connect(receivers.on_lead_created, dispatch_uid="scoring.created")
        signals.lead_fields_changed.connect(
            receivers.on_lead_fields_changed, dispatch_uid="scoring.fields_changed"
        )
        signals.company_fields_changed.connect(
            receivers.on_company_fields_changed, dispatch_uid="scoring.company"
        )
        signals.event_recorded.connect(receivers.on_event_recorded, dispatch_uid="scoring.event")
        signals.visitor_linked.connect(receivers.on_visitor_linked, dispatch_uid="scoring.visitor")
        signals.events_recorded.connect(receivers.on_events_recorded, dispatch_uid="scoring.events")

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender, **kwargs) -> None:
    # A flush (as in transactional tests) empties auth_group and the starter rows; the
    # migrations don't run again.
    from django.contrib.auth.models import Group, Permission

    from leadcrm.roles import sync_role_permissions
    from sales.models import QualificationPolicy, RejectionReason
    from sales.roles import GRANTS
    from sales.starter import ensure_starter_rows

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="sales", grants=GRANTS
    )
    ensure_starter_rows(reason_model=RejectionReason, policy_model=QualificationPolicy)


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from leads.lifecycle import Stage, manage_stage
        from leads.panels import register_detail_panel

        # An opportunity needs an amount, a customer the amount won: the pipeline makes them.
        manage_stage(
            Stage.OPPORTUNITY,
            how=_(
                "Convert the lead with “Convert to opportunity” on its page (API: POST "
                "/api/v1/leads/{id}/convert/): an opportunity needs an amount."
            ),
        )
        manage_stage(
            Stage.CUSTOMER,
            how=_(
                "Mark the lead's opportunity as won on the pipeline (API: POST "
                "/api/v1/opportunities/{id}/won/): a customer needs the amount won."
            ),
        )
        from leads import signals
        from sales import receivers
        from sales.panels import (
            activities_panel,
            assignment_panel,
            opportunity_panel,
            qualification_panel,
        )

        signals.lead_stage_changed.connect(
            receivers.on_lead_stage_changed, dispatch_uid="sales.stage_changed"
        )
        signals.leads_stage_changed.connect(
            receivers.on_leads_stage_changed, dispatch_uid="sales.stages_changed"
        )
        signals.leads_owner_changed.connect(
            receivers.on_leads_owner_changed, dispatch_uid="sales.owners_changed"
        )

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="sales.after_migrate")
        register_detail_panel(
            name="assignment",
            template="sales/_assignment_panel.html",
            context=assignment_panel,
            position=15,
        )
        register_detail_panel(
            name="qualification",
            template="sales/_qualification_panel.html",
            context=qualification_panel,
            position=20,
        )
        register_detail_panel(
            name="opportunity",
            template="sales/_opportunity_panel.html",
            context=opportunity_panel,
            position=30,
        )
        register_detail_panel(
            name="activities",
            template="sales/_activities_panel.html",
            context=activities_panel,
            position=50,
        )

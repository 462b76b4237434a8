from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    # A flush (as in transactional tests) empties auth_group and the starter rows; the
    # migrations don't run again.
    from django.contrib.auth.models import Group, Permission

    from leadcrm.roles import sync_role_permissions
    from leads.models import LostReason, PipelineStage
    from leads.roles import GRANTS
    from leads.starter import ensure_pipeline_rows

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="leads", grants=GRANTS
    )
    ensure_pipeline_rows(stage_model=PipelineStage, reason_model=LostReason)


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # After django.contrib.auth's own post_migrate handler has created the permissions.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="leads.sync_roles")

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    # A flush (as in transactional tests) empties auth_group; the migrations don't run again.
    from django.contrib.auth.models import Group, Permission

    from capture.roles import GRANTS
    from leadcrm.roles import sync_role_permissions

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="capture", grants=GRANTS
    )


class CaptureConfig(AppConfig):
    name = "capture"
    verbose_name = _("Lead capture")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="capture.sync_roles")

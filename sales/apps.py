from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    # A flush (as in transactional tests) empties auth_group; the migrations don't run again.
    from django.contrib.auth.models import Group, Permission

    from leadcrm.roles import sync_role_permissions
    from sales.roles import GRANTS

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="sales", grants=GRANTS
    )


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from leads.panels import register_detail_panel
        from sales.panels import activities_panel, qualification_panel

        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="sales.sync_roles")
        register_detail_panel(
            name="qualification",
            template="sales/_qualification_panel.html",
            context=qualification_panel,
            position=5,
        )
        register_detail_panel(
            name="activities",
            template="sales/_activities_panel.html",
            context=activities_panel,
            position=50,
        )

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender, **kwargs) -> None:
    # A flush (as in transactional tests) empties auth_group; the migrations don't run again.
    from django.contrib.auth.models import Group, Permission

    from leadcrm.roles import sync_role_permissions
    from reporting.roles import GRANTS

    sync_role_permissions(
        group_model=Group, permission_model=Permission, app_label="reporting", grants=GRANTS
    )


def _sqlite_median(sender, connection, **kwargs) -> None:
    # PostgreSQL has percentile_cont; SQLite (make run) gets the same aggregate under that name.
    if connection.vendor == "sqlite":
        from reporting.aggregates import SqliteMedian

        connection.connection.create_aggregate("leadcrm_median", 1, SqliteMedian)


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="reporting.after_migrate")
        connection_created.connect(_sqlite_median, dispatch_uid="reporting.sqlite_median")

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups; the data migrations create them and grant each its permissions."""

    MARKETER = "marketer", _("Marketer")
    SALES_REP = "sales_rep", _("Sales rep")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ADMIN = "admin", _("Admin")


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_leadcrm_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._leadcrm_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def sees_all_leads(user) -> bool:
    """Marketers, managers and admins see every lead; a sales rep sees a filtered queue."""
    return has_role(user, Role.MARKETER, Role.SALES_MANAGER, Role.ADMIN)


def sync_role_permissions(
    *, group_model, permission_model, app_label: str, grants: dict[str, dict[str, list[str]]]
) -> None:
    """Make each role group exist and hold at least the permissions ``grants`` names for the app.

    Used by the data migrations (with historical models) and after every migrate or flush, so the
    roles are right on a fresh database, an old one and a flushed test database alike.
    """
    for role, models_actions in grants.items():
        group, _created = group_model.objects.get_or_create(name=role)
        codenames = [
            f"{action}_{model}" for model, actions in models_actions.items() for action in actions
        ]
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )

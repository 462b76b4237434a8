from django.contrib.auth.backends import ModelBackend
from django.db import connection, models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups; the data migrations create them and grant each its permissions."""

    MARKETER = "marketer", _("Marketer")
    SALES_REP = "sales_rep", _("Sales rep")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ADMIN = "admin", _("Admin")


# The user's role names and permissions in one statement, as (kind, app label, name) rows. Plain
# SQL because the ORM's three-part UNION took about 1 ms of Python to compile on every request.
ACCESS_SQL = """
    SELECT 'role', '', g.name
      FROM auth_group g JOIN auth_user_groups ug ON ug.group_id = g.id
     WHERE ug.user_id = %(user)s
    UNION ALL
    SELECT 'group', ct.app_label, p.codename
      FROM auth_permission p
      JOIN django_content_type ct ON ct.id = p.content_type_id
      JOIN auth_group_permissions gp ON gp.permission_id = p.id
      JOIN auth_user_groups ug ON ug.group_id = gp.group_id
     WHERE ug.user_id = %(user)s
    UNION ALL
    SELECT 'user', ct.app_label, p.codename
      FROM auth_permission p
      JOIN django_content_type ct ON ct.id = p.content_type_id
      JOIN auth_user_user_permissions up ON up.permission_id = p.id
     WHERE up.user_id = %(user)s
"""


def _load_access(user) -> None:
    """The user's role names and permissions in one query (three before: roles, the user's
    permissions, the groups' permissions), cached on the user object, which lives as long as the
    request: ``_leadcrm_roles`` for user_roles, and the caches Django's ModelBackend reads, so
    ``has_perm`` asks the database no more."""
    found: dict[str, set[str]] = {"role": set(), "group": set(), "user": set()}
    with connection.cursor() as cursor:
        cursor.execute(ACCESS_SQL, {"user": user.pk})
        for kind, app_label, name in cursor.fetchall():
            found[kind].add(name if kind == "role" else f"{app_label}.{name}")
    if user.is_superuser:
        found["role"].add(Role.ADMIN)
    user._leadcrm_roles = found["role"]
    # What ModelBackend would have cached; a superuser's and an inactive user's permissions are
    # its business (every permission, none), so it computes them itself.
    if user.is_active and not user.is_superuser:
        user._user_perm_cache = found["user"]
        user._group_perm_cache = found["group"]
        user._perm_cache = found["user"] | found["group"]


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if getattr(user, "_leadcrm_roles", None) is None:
        _load_access(user)
    return user._leadcrm_roles


class RoleModelBackend(ModelBackend):
    """Django's ModelBackend, whose permissions of a user come with the user's roles in the
    one query of ``_load_access``, once per request."""

    def _get_permissions(self, user_obj, obj, from_name):
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser
            and not hasattr(user_obj, f"_{from_name}_perm_cache")
        ):
            _load_access(user_obj)
        return super()._get_permissions(user_obj, obj, from_name)


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

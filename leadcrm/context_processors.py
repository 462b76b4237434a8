from django.http import HttpRequest

from leadcrm.roles import Role, user_roles


def navigation(request: HttpRequest) -> dict:
    """Which parts of the navigation the signed-in user gets (templates branch on these)."""
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    return {
        "nav_roles": roles,
        "is_marketer": Role.MARKETER in roles or Role.ADMIN in roles,
        "is_sales": bool(roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN}),
        "is_admin": Role.ADMIN in roles,
    }

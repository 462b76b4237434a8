"""Who may do what with a lead, beyond the model permissions the roles grant."""

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.permissions import DjangoModelPermissions

from leadcrm.roles import Role, has_role, sees_all_leads
from leads.models import Lead


def can_assign_owner(user: AbstractBaseUser, owner: AbstractBaseUser | None) -> bool:
    """Managers, marketers and admins assign leads to anyone; a sales rep only to themselves."""
    if sees_all_leads(user):
        return True
    return owner is not None and owner.pk == user.pk


class LeadModelPermissions(DjangoModelPermissions):
    """Reading needs the view permission as well (DRF's default lets any signed-in user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        """The lead permissions the method needs. DRF's version builds the view's queryset only
        to learn its model, which here is always Lead: on the lead list that was a second
        queryset built on every request."""
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user.has_perms(self.get_required_permissions(request.method, Lead))


def can_claim_leads(user: AbstractBaseUser) -> bool:
    """Who gets the "Claim" button on unassigned MQLs: the people leads.services.lead_claim
    accepts, sales reps and managers."""
    return has_role(user, Role.SALES_REP, Role.SALES_MANAGER)

"""A user's roles and permissions: read in one query per request (leadcrm.roles)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from leadcrm.roles import Role, user_roles
from tests.factories import UserFactory

User = get_user_model()


def fresh(user):
    """The user as a new request sees it: nothing cached on the object yet."""
    return User.objects.get(pk=user.pk)


def test_it_reads_roles_and_permissions_in_one_query(marketer, django_assert_num_queries):
    user = fresh(marketer)

    with django_assert_num_queries(1):
        roles = user_roles(user)
        may_view = user.has_perm("leads.view_lead")
        may_read_rules = user.has_perm("scoring.view_graderule")
        may_add_rule = user.has_perm("scoring.add_graderule")
        all_perms = user.get_all_permissions()

    assert roles == {"marketer"}
    assert (may_view, may_read_rules, may_add_rule) == (True, True, False)
    assert {"leads.view_lead", "leads.add_lead", "leads.change_lead"} <= all_perms
    assert "auth.delete_user" not in all_perms


def test_it_reads_them_once_whichever_is_asked_first(sales_rep, django_assert_num_queries):
    user = fresh(sales_rep)

    with django_assert_num_queries(1):
        may_view = user.has_perm("leads.view_lead")
        roles = user_roles(user)
        may_transition = user.has_perm("leads.transition_lead")

    assert (may_view, may_transition) == (True, True)
    assert roles == {"sales_rep"}


def test_it_tells_permissions_given_to_the_user_from_those_of_their_groups(db):
    user = UserFactory(username="mixed", role=Role.SALES_REP)
    user.user_permissions.add(Permission.objects.get(codename="delete_campaign"))
    user = fresh(user)

    own = user.get_user_permissions()
    from_groups = user.get_group_permissions()

    assert own == {"leads.delete_campaign"}
    assert "leads.view_lead" in from_groups
    assert "leads.delete_campaign" not in from_groups
    assert user.has_perm("leads.delete_campaign")


def test_it_gives_a_user_without_groups_no_role_and_no_permission(no_role_user):
    user = fresh(no_role_user)

    assert user_roles(user) == set()
    assert not user.has_perm("leads.view_lead")
    assert user.get_all_permissions() == set()


def test_it_gives_an_inactive_user_no_permission_but_keeps_the_role_name(db):
    user = UserFactory(username="gone", role=Role.MARKETER, is_active=False)
    user = fresh(user)

    assert user_roles(user) == {"marketer"}
    assert not user.has_perm("leads.view_lead")
    assert user.get_all_permissions() == set()


def test_it_makes_a_superuser_an_admin_with_every_permission(db):
    user = fresh(UserFactory(username="root", is_superuser=True))

    assert user_roles(user) == {"admin"}
    assert user.has_perm("auth.delete_user")
    assert "auth.delete_user" in user.get_all_permissions()


def test_it_sees_a_changed_group_in_the_next_request(marketer):
    before = fresh(marketer)
    assert user_roles(before) == {"marketer"}
    marketer.groups.clear()

    after = fresh(marketer)

    assert user_roles(after) == set()
    assert not after.has_perm("leads.view_lead")

import pytest

from leadcrm.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", role=Role.MARKETER)


@pytest.fixture
def sales_rep(db):
    return UserFactory(username="rep", role=Role.SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="rep2", role=Role.SALES_REP)


@pytest.fixture
def sales_manager(db):
    return UserFactory(username="manager", role=Role.SALES_MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="norole")

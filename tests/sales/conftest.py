"""Fixtures several sales test modules share."""

import pytest

from leadcrm.celery import app as celery_app
from sales.models import RepProfile, Team
from tests.factories import UserFactory


@pytest.fixture
def eager():
    """Tasks enqueued after commit run at once (the recording task, the e-mail task)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def team(sales_manager):
    """A team of one manager; test_assignment*.py build their own teams."""
    team = Team.objects.create(name="Inside sales")
    team.managers.add(sales_manager)
    return team


@pytest.fixture
def rep(team):
    """Ada, a rep in that team who wants e-mails about new leads."""
    user = UserFactory(
        username="ada", first_name="Ada", last_name="Rep", role="sales_rep", email="ada@example.com"
    )
    RepProfile.objects.create(user=user, team=team, notify_by_email=True)
    return user

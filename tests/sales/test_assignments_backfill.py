"""The backfill (data migration sales 0007): every lead with an owner and no running assignment
gets one, in one statement, dated when the lead got its owner (its latest owner change on the
timeline, else its creation); no SLA, no notification, no timeline entry; twice adds nothing."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps
from django.db import connection

from leads.lifecycle import Stage
from leads.models import LeadChange
from sales.assignment import assignments_backfill
from sales.models import Assignment, Notification, RepProfile, Team
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATED = datetime(2025, 1, 6, 8, tzinfo=UTC)
OWNER_CHANGED = datetime(2025, 2, 3, 10, tzinfo=UTC)
LATER_CHANGE = datetime(2025, 3, 3, 10, tzinfo=UTC)
EDITED = datetime(2025, 6, 2, 12, tzinfo=UTC)


@pytest.fixture
def ada(db):
    user = UserFactory(username="ada", first_name="Ada", last_name="Alt", role="sales_rep")
    RepProfile.objects.create(user=user, team=Team.objects.create(name="DACH"))
    return user


def lead(owner, **fields):
    return LeadFactory(owner=owner, created_at=CREATED, updated_at=EDITED, **fields)


def running(lead_):
    return list(
        Assignment.objects.filter(lead=lead_, sla_closed_at__isnull=True).values_list(
            "owner_id", "team__name", "by_user", "rule", "rule_name", "at", "sla_due_at"
        )
    )


def test_it_writes_one_running_assignment_for_each_owned_lead_without_one(ada, other_rep):
    with_history = lead(ada, stage=Stage.MQL)
    LeadChange.objects.create(
        lead=with_history, field="owner", old_value="", new_value="Bob", at=OWNER_CHANGED
    )
    LeadChange.objects.create(
        lead=with_history, field="owner", old_value="Bob", new_value="Ada Alt", at=LATER_CHANGE
    )
    LeadChange.objects.create(
        lead=with_history, field="city", old_value="", new_value="Köln", at=EDITED
    )
    without_history = lead(other_rep, stage=Stage.SQL)
    already = lead(ada)
    kept = Assignment.objects.create(lead=already, owner=ada, at=OWNER_CHANGED)
    only_closed = lead(ada)
    Assignment.objects.create(
        lead=only_closed, owner=other_rep, at=CREATED, sla_closed_at=OWNER_CHANGED
    )
    unowned = lead(None, stage=Stage.MQL)
    changes_before = LeadChange.objects.count()

    written = assignments_backfill()

    assert written == 3
    assert running(with_history) == [(ada.pk, "DACH", None, None, "", LATER_CHANGE, None)]
    assert running(without_history) == [(other_rep.pk, None, None, None, "", CREATED, None)]
    assert list(Assignment.objects.filter(lead=already).values_list("pk", flat=True)) == [kept.pk]
    assert running(only_closed) == [(ada.pk, "DACH", None, None, "", CREATED, None)]
    assert not Assignment.objects.filter(lead=unowned).exists()
    assert Notification.objects.count() == 0
    assert LeadChange.objects.count() == changes_before


def test_running_it_again_adds_nothing(ada):
    for _ in range(3):
        lead(ada)

    assert (assignments_backfill(), assignments_backfill()) == (3, 0)
    assert Assignment.objects.count() == 3


def test_it_is_one_statement_for_any_number_of_leads(ada, django_assert_num_queries):
    for _ in range(5):
        lead(ada)

    # A savepoint, the INSERT … SELECT, the release.
    with django_assert_num_queries(3):
        assert assignments_backfill() == 5


def test_the_migration_runs_it_with_the_historical_models(ada):
    migration = importlib.import_module("sales.migrations.0007_backfill_running_assignments")
    owned = lead(ada)

    with connection.schema_editor() as editor:
        migration.backfill(django_apps, editor)

    assert running(owned) == [(ada.pk, "DACH", None, None, "", CREATED, None)]
    operation = migration.Migration.operations[0]
    assert operation.reversible

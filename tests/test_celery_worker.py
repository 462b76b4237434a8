import time

import pytest
from django.core.cache import cache

from leadcrm.celery import app as celery_app
from leadcrm.tasks import HEARTBEAT_CACHE_KEY, ping, worker_heartbeat

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_it_runs_a_task_in_the_real_worker_and_returns_its_result(celery_worker_process):
    assert ping.delay("round-trip").get(timeout=10) == "pong:round-trip"


def test_it_shares_the_cache_between_web_and_worker(celery_worker_process):
    cache.delete(HEARTBEAT_CACHE_KEY)

    worker_heartbeat.delay()

    deadline = time.monotonic() + 10
    while cache.get(HEARTBEAT_CACHE_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


def test_it_stores_results_only_for_tasks_whose_result_is_read(celery_worker_process):
    cache.delete(HEARTBEAT_CACHE_KEY)

    heartbeat = worker_heartbeat.delay()
    pong = ping.delay("kept")

    assert pong.get(timeout=10) == "pong:kept"
    deadline = time.monotonic() + 10
    while cache.get(HEARTBEAT_CACHE_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None  # it ran ...
    assert celery_app.backend.get_task_meta(heartbeat.id)["status"] == "PENDING"  # ... unrecorded
    assert celery_app.backend.get_task_meta(pong.id)["status"] == "SUCCESS"

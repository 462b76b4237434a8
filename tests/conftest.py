import os
import subprocess
import sys
import time

import celery.exceptions
import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection

from leadcrm.cache import RedisCache
from leadcrm.roles import Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def forget_counts_and_throttles():
    """Each test starts with no remembered list count (leadcrm.paging.CappedCount) and no API
    throttle count: the tests share one Redis, and the same list in another test's database is
    another list. Deleted by pattern: the Celery broker lives in the same Redis database."""
    if not isinstance(caches["default"], RedisCache):
        cache.clear()
        return
    client = caches["default"]._cache.get_client(write=True)
    for pattern in ("capped-count:*", "throttle_*"):
        found = list(client.scan_iter(match=cache.make_key(pattern)))
        if found:
            client.delete(*found)


@pytest.fixture(autouse=True)
def plain_http(settings):
    """Tests speak plain HTTP to the test client and live server (production forces HTTPS) and
    serve static files from the source folders (production serves collectstatic's output)."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


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
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="norole")


# The worker outlives the tests that use it. Between them it listens only to a queue nobody
# sends to, so tasks that other tests enqueue (a score, a webhook delivery) never run against the
# database while pytest flushes it; a test that asks for the worker turns the default queue on.
WORKER_IDLE_QUEUE = "leadcrm-tests-idle"
WORKER_HOSTNAME = f"pytest-{os.getpid()}@leadcrm-tests"


@pytest.fixture(scope="session")
def _celery_worker_started(django_db_setup, django_db_blocker):
    """A real Celery worker process on the test database and the test Redis broker."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
        pytest.fail("The worker tests need PostgreSQL and Redis: run them with `make test`.")
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # Webhook tests send to a receiver on 127.0.0.1 over plain HTTP and want retries fast.
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "WEBHOOKS_REQUIRE_HTTPS": "0",
        "WEBHOOKS_RETRY_BASE_SECONDS": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leadcrm",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            f"--queues={WORKER_IDLE_QUEUE}",
            f"--hostname={WORKER_HOSTNAME}",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        _wait_for_worker(process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def celery_worker_process(_celery_worker_started):
    """The real worker, consuming the default queue for this test only.

    Tests that use it need ``transactional_db`` so the worker sees committed rows.
    """
    from leadcrm.celery import app

    queue = app.conf.task_default_queue
    app.control.purge()  # what earlier tests enqueued is not this test's work
    _control(app, "add_consumer", queue)
    yield _celery_worker_started
    # With the solo pool the worker answers only between tasks, so once it has answered, the
    # task it was running is done; then wait until nothing it had already taken is left.
    _control(app, "cancel_consumer", queue)
    inspect = app.control.inspect(destination=[WORKER_HOSTNAME], timeout=10, limit=1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pending = [inspect.active(), inspect.reserved(), inspect.scheduled()]
        if all(reply and not any(reply.values()) for reply in pending):
            return
        time.sleep(0.1)
    pytest.fail(f"The Celery worker did not finish this test's tasks: {pending}")


def _control(app, command: str, queue: str) -> None:
    replies = getattr(app.control, command)(
        queue, destination=[WORKER_HOSTNAME], reply=True, timeout=30, limit=1
    )
    if not replies:
        pytest.fail(f"The Celery worker did not answer {command}({queue!r})")


def _wait_for_worker(process: subprocess.Popen, timeout: float = 60.0) -> None:
    from leadcrm.tasks import ping

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited with code {process.returncode}")
        result = ping.apply_async(("ready",), queue=WORKER_IDLE_QUEUE)
        try:
            if result.get(timeout=2) == "pong:ready":
                return
        except celery.exceptions.TimeoutError:
            result.revoke()
    pytest.fail("Celery worker did not answer within a minute")

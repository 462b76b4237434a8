import os
import subprocess
import sys
import time

import celery.exceptions
import pytest
from django.conf import settings
from django.db import connection

from leadcrm.roles import Role
from tests.factories import UserFactory


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


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process on the test database and the test Redis broker.

    Tests that use it need ``transactional_db`` so the worker sees committed rows.
    """
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
            f"--hostname=pytest-{os.getpid()}@%h",
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


def _wait_for_worker(process: subprocess.Popen, timeout: float = 60.0) -> None:
    from leadcrm.tasks import ping

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited with code {process.returncode}")
        result = ping.delay("ready")
        try:
            if result.get(timeout=2) == "pong:ready":
                return
        except celery.exceptions.TimeoutError:
            result.revoke()
    pytest.fail("Celery worker did not answer within a minute")

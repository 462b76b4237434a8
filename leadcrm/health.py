"""Readiness of the parts LeadCRM needs: database, cache, Celery broker and workers."""

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection

from leadcrm.celery import app as celery_app

logger = logging.getLogger(__name__)

WORKER_PING_TIMEOUT = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"leadcrm:healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_worker() -> None:
    """A real round trip: a task goes through the broker to a worker and its result comes back."""
    result = celery_app.send_task("leadcrm.tasks.ping", args=["healthz"])
    try:
        answer = result.get(timeout=WORKER_PING_TIMEOUT)
    finally:
        result.forget()
    if answer != "pong:healthz":
        raise RuntimeError(f"unexpected worker answer {answer!r}")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "worker": check_worker,
}
# Without these the web process cannot serve; a missing worker only delays background work.
CRITICAL = {"database", "cache", "broker"}


def run_checks() -> dict[str, dict[str, str]]:
    report = {}
    for name, check in CHECKS.items():
        if name == "worker" and report.get("broker", {}).get("status") != "ok":
            report[name] = {"status": "error", "error": "broker unreachable"}
            continue
        try:
            check()
        except Exception as exc:  # a health check reports every failure instead of raising it
            logger.warning("health check %s failed: %s", name, exc)
            report[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        else:
            report[name] = {"status": "ok"}
    return report

"""Readiness of the parts LeadCRM needs: database, cache, Celery broker, and beat's heartbeat."""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from leadcrm.celery import app as celery_app
from leadcrm.tasks import HEARTBEAT_CACHE_KEY

logger = logging.getLogger(__name__)

Report = dict[str, dict[str, Any]]


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


def check_heartbeat() -> dict[str, Any]:
    """How long ago a worker last ran the heartbeat task that beat sends every 30 s.

    A fresh heartbeat shows that beat, the broker and a worker all work, without sending a task
    and waiting for it on every probe (which blocked a web worker, and failed whenever the queue
    was busy).
    """
    written = cache.get(HEARTBEAT_CACHE_KEY)
    if written is None:
        return {"status": "missing"}
    age = max(0, int((timezone.now() - datetime.fromisoformat(written)).total_seconds()))
    status = "ok" if age <= settings.HEARTBEAT_MAX_AGE else "stale"
    return {"status": status, "age_seconds": age}


CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "heartbeat": check_heartbeat,
}
# Without these the web process cannot serve; a missing heartbeat only delays background work.
CRITICAL = {"database", "cache", "broker"}


def run_checks(*, with_errors: bool = False) -> Report:
    """Every check's status; the exception text only ``with_errors`` (never for anonymous
    callers: it can name hosts, users and library versions). Failures are logged in full."""
    report: Report = {}
    for name, check in CHECKS.items():
        try:
            report[name] = check() or {"status": "ok"}
        except Exception as exc:  # a health check reports every failure instead of raising it
            logger.warning("health check %s failed", name, exc_info=True)
            report[name] = {"status": "error"}
            if with_errors:
                report[name]["error"] = f"{type(exc).__name__}: {exc}"
    return report

"""Structured logging: one line per request with its method, path, status and duration, and the
Celery task's name and id on every line logged while a task runs (fields of the JSON log)."""

import logging
import time
from collections.abc import Callable

from celery import current_task
from django.http import HttpRequest, HttpResponse

request_logger = logging.getLogger("leadcrm.request")


def request_log_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response

    return middleware


class CeleryTaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if current_task and current_task.request.id:
            record.task_name = current_task.name
            record.task_id = current_task.request.id
        return True

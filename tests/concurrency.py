"""Run the same call from several threads at once, each on its own database connection."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection


def run_in_threads(count: int, target: Callable[[int], Any]) -> list:
    """Start ``count`` threads behind a barrier so they call ``target(index)`` together; returns
    each call's result or the exception it raised, by index."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results

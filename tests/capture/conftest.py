from collections.abc import Iterator

import pytest
from django.core.cache import cache

from capture.buffer import RedisBuffer, get_buffer


@pytest.fixture(autouse=True)
def empty_track_buffer(settings) -> Iterator[None]:
    """Each test starts with an empty tracking buffer and fresh per-address counts."""

    def empty() -> None:
        buffer = get_buffer()
        if isinstance(buffer, RedisBuffer):
            # The queue, the batch being flushed, the flush lock and the per-address counts.
            for key in buffer.client.scan_iter(f"{buffer.prefix}*"):
                buffer.client.delete(key)
        cache.clear()

    empty()
    yield
    empty()

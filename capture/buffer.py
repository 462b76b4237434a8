"""The buffer between the public tracking endpoint and the database.

``/t/e`` only appends a record here; ``capture.services.track_flush`` (a Celery beat task every
few seconds) claims a batch, stores it with one set-based insert and then acknowledges it. A
claimed batch stays in the buffer until it is acknowledged, so a worker that dies mid-flush loses
nothing: the next flush stores the same batch again, and each record's idempotency key keeps
what was already committed from being stored twice.

Two implementations with the same four operations:

- ``RedisBuffer`` (production, tests: ``REDIS_URL`` set): a Redis list; a claim moves a batch to a
  processing list in one Lua script.
- ``FileBuffer`` (``make run`` without Redis): an append-only spool file; a claim renames it.

Only one flush runs at a time (``lock``).
"""

import contextlib
import fcntl
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import cache

# Moves up to ARGV[1] records from the head of the queue to the processing list, atomically.
CLAIM_SCRIPT = """
local records = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #records > 0 then
  redis.call('LTRIM', KEYS[1], #records, -1)
  redis.call('RPUSH', KEYS[2], unpack(records))
end
return records
"""
# One round trip per page view: count it against its address's window (the window's key expires
# with it) and, if it is within the rate and valid (ARGV[3] not empty), append it to the queue.
ADMIT_SCRIPT = """
local sent = redis.call('INCR', KEYS[1])
if sent == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if sent <= tonumber(ARGV[2]) and ARGV[3] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[3]) end
return sent
"""
# Deletes the lock only if this flush still holds it (it may have expired and been taken).
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBuffer:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = _redis_client(url)
        self.prefix = f"{prefix}:track:"
        self.queue = f"{prefix}:track:queue"
        self.processing = f"{prefix}:track:processing"
        self.lock_key = f"{prefix}:track:flush-lock"

    def admit(self, record: bytes | None, *, sender: str, limit: int, period: int) -> int:
        """Count a request from ``sender`` in the current window of ``period`` seconds and
        buffer ``record`` (None: an invalid request, only counted) if the count is within
        ``limit``; returns the count."""
        window = int(time.time() // period)
        key = f"{self.prefix}rate:{sender}:{window}"
        return _admit_script(self.client)(
            keys=[key, self.queue], args=[period + 1, limit, record or b""]
        )

    def push(self, record: bytes) -> None:
        self.client.rpush(self.queue, record)

    def claim(self, limit: int) -> list[bytes]:
        """The batch a dead flush left behind, else up to ``limit`` records from the queue."""
        left_over = self.client.lrange(self.processing, 0, -1)
        if left_over:
            return left_over
        return self.client.eval(CLAIM_SCRIPT, 2, self.queue, self.processing, limit)

    def ack(self) -> None:
        self.client.delete(self.processing)

    def pending(self) -> int:
        return self.client.llen(self.queue) + self.client.llen(self.processing)

    @contextlib.contextmanager
    def lock(self, *, timeout: int) -> Iterator[bool]:
        token = os.urandom(16).hex()
        held = bool(self.client.set(self.lock_key, token, nx=True, ex=timeout))
        try:
            yield held
        finally:
            if held:
                self.client.eval(RELEASE_SCRIPT, 1, self.lock_key, token)


class FileBuffer:
    """Records are lines of ``queue.jsonl``; a claim renames it to ``processing.jsonl``.

    A writer appends under an exclusive ``flock`` and checks that the file it locked is still the
    one named ``queue.jsonl`` (else the flush renamed it meanwhile: it opens the new one). The
    flush takes the same lock on the renamed file before reading it, so it waits for a writer that
    opened the file just before the rename.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.queue = directory / "queue.jsonl"
        self.processing = directory / "processing.jsonl"

    def admit(self, record: bytes | None, *, sender: str, limit: int, period: int) -> int:
        """As RedisBuffer.admit, counting in Django's cache (file-based in development)."""
        window = int(time.time() // period)
        key = f"track-rate:{sender}:{window}"
        if cache.add(key, 1, timeout=period + 1):
            sent = 1
        else:
            try:
                sent = cache.incr(key)
            except ValueError:  # expired between add and incr: a new window
                sent = 1
        if record is not None and sent <= limit:
            self.push(record)
        return sent

    def push(self, record: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            with open(self.queue, "ab") as spool:
                fcntl.flock(spool, fcntl.LOCK_EX)
                try:
                    if os.fstat(spool.fileno()).st_ino != os.stat(self.queue).st_ino:
                        continue
                except FileNotFoundError:
                    continue
                spool.write(record + b"\n")
                spool.flush()
                return

    def claim(self, limit: int) -> list[bytes]:
        # The whole spool at once: without Redis this is a development set-up with few records.
        if not self.processing.exists():
            try:
                os.rename(self.queue, self.processing)
            except FileNotFoundError:
                return []
        with open(self.processing, "rb") as spool:
            fcntl.flock(spool, fcntl.LOCK_EX)
            return [line for line in spool.read().split(b"\n") if line]

    def ack(self) -> None:
        self.processing.unlink(missing_ok=True)

    def pending(self) -> int:
        return sum(
            path.read_bytes().count(b"\n")
            for path in (self.queue, self.processing)
            if path.exists()
        )

    @contextlib.contextmanager
    def lock(self, *, timeout: int) -> Iterator[bool]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "flush.lock", "wb") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    # One connection pool per process, shared by every request.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


@functools.cache
def _admit_script(client: redis.Redis):
    # Sent by its SHA1 (EVALSHA), loaded into Redis on first use.
    return client.register_script(ADMIT_SCRIPT)


def get_buffer() -> RedisBuffer | FileBuffer:
    if settings.REDIS_URL:
        prefix = settings.CACHES["default"].get("KEY_PREFIX") or "leadcrm"
        return RedisBuffer(settings.REDIS_URL, prefix)
    return FileBuffer(Path(settings.VAR_DIR) / "track")

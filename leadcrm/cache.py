"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` makes a new ``redis.Redis`` for every cache call. Since
redis-py 5 that object builds its table of about 170 response callbacks in ``__init__``: on an
API request, whose throttle reads and writes the cache, two of them cost about 0.5 ms
(docs/benchmarks.md). A ``redis.Redis`` is safe to share between threads (every command takes a
connection from the pool), so one per pool serves every call.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # By the pool's id: pools live as long as this object, in ``self._pools``.
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_hit(self, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
        """count_hit in one round trip: INCR, EXPIRE and GET in a pipeline."""
        counted = self.make_and_validate_key(key)
        client = self._cache.get_client(counted, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(counted)
        pipeline.expire(counted, timeout)
        pipeline.get(self.make_and_validate_key(previous_key))
        current, _expiry_set, previous = pipeline.execute()
        return current, int(previous or 0)


def count_hit(cache, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Add one to the counter ``key`` (kept ``timeout`` seconds) and read the counter
    ``previous_key``: the new count and the other, 0 where there is none. The API throttles'
    one cache access per request (leadcrm.throttling); Redis answers it in one round trip, any
    other cache in three."""
    in_one_trip = getattr(cache, "count_hit", None)  # ``cache`` may be Django's proxy of it
    if in_one_trip is not None:
        return in_one_trip(key, previous_key, timeout)
    cache.add(key, 0, timeout)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between the two
        cache.set(key, 1, timeout)
        current = 1
    return current, cache.get(previous_key, 0)

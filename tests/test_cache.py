"""The Redis cache (leadcrm.cache): Django's, with one client per server instead of one per call."""

import pytest
from django.conf import settings
from django.core.cache import caches

from leadcrm.cache import RedisCache


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        pytest.fail("The cache tests need Redis: run them with `make test`.")
    return settings.REDIS_URL


def test_the_project_caches_in_redis_through_leadcrm_cache(redis_url):
    assert isinstance(caches["default"], RedisCache)


def test_it_stores_counts_and_expires_as_djangos_redis_cache_does(redis_url):
    own = RedisCache(redis_url, {"KEY_PREFIX": "test-cache"})
    own.delete_many(["history", "count"])

    own.set("history", [3.5, 2.0], timeout=60)
    assert own.get("history") == [3.5, 2.0]
    assert own.add("count", 1, timeout=60) is True
    assert own.add("count", 5, timeout=60) is False
    assert own.incr("count") == 2
    own.set("gone", "x", timeout=0)
    assert own.get("gone", "missing") == "missing"
    with pytest.raises(ValueError, match="not found"):
        own.incr("never-set")


def test_every_call_shares_one_client(redis_url):
    own = RedisCache(redis_url, {})

    first = own._cache.get_client("a", write=True)
    own.set("a", 1)
    own.get("a")

    assert own._cache.get_client("b", write=False) is first

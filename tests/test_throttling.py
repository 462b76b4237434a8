"""The API throttles' sliding window counter (leadcrm.throttling), on Redis and on another cache."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from leadcrm.cache import RedisCache
from leadcrm.throttling import SlidingWindowRateThrottle

# 100 minutes after the epoch: the start of a window of a rate per minute.
MINUTE_100 = 6000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def throttle_class(cache, clock: Clock, rate: str = "3/minute"):
    class Throttle(SlidingWindowRateThrottle):
        def get_cache_key(self, request, view):
            return f"throttle_test_{request}"

    Throttle.rate, Throttle.cache, Throttle.timer = rate, cache, clock
    return Throttle


@pytest.fixture(params=["redis", "locmem"])
def cache(request):
    if request.param == "redis":
        redis = caches["default"]
        assert isinstance(redis, RedisCache)
        return redis
    return LocMemCache(f"throttle-{request.node.name}", {})


def ask(throttle_type, client: str = "ada") -> tuple[bool, float | None]:
    throttle = throttle_type()
    allowed = throttle.allow_request(client, None)
    return allowed, None if allowed else throttle.wait()


def test_it_lets_the_rate_through_and_says_when_the_next_would_pass(cache):
    clock = Clock(MINUTE_100)
    throttle = throttle_class(cache, clock)

    answers = [ask(throttle) for _ in range(4)]

    # 3 at the window's start: in the next window they count 3 * (1 - f) for the share f of it
    # gone; one more fits when 3 * (1 - f) + 1 <= 3, at f = 1/3: 60 + 20 seconds from now.
    assert answers == [(True, None), (True, None), (True, None), (False, 80.0)]
    assert ask(throttle, "grace") == (True, None)  # another client has a count of its own


def test_the_previous_windows_requests_count_by_the_share_of_it_still_in_the_last_minute(cache):
    clock = Clock(MINUTE_100 + 30)
    throttle = throttle_class(cache, clock)
    assert [ask(throttle)[0] for _ in range(3)] == [True, True, True]

    clock.now = MINUTE_100 + 65  # 5 s into the next window: 3 * 55/60 + 1 = 3.75 > 3
    refused = ask(throttle)
    clock.now = MINUTE_100 + 79.5  # 3 * 40.5/60 + 1 = 3.025 > 3
    still_refused = ask(throttle)
    clock.now = MINUTE_100 + 80  # 3 * 40/60 + 1 = 3: the refused requests were not counted
    let_through = ask(throttle)
    then_refused = ask(throttle)  # 3 * 40/60 + 2 = 4

    # until 3 * (60 - into) / 60 <= 2, at into = 20: 15 s after 65, 0.5 s after 79.5
    assert refused == (False, 15.0)
    assert still_refused == (False, 0.5)
    assert let_through == (True, None)
    # this window's 1 and one more leave room for none: until 3 * (60 - into) / 60 <= 1, at
    # into = 40, 20 s from now
    assert then_refused == (False, 20.0)


def test_a_window_two_periods_back_counts_no_more(cache):
    clock = Clock(MINUTE_100 + 59)
    throttle = throttle_class(cache, clock, rate="2/minute")
    assert [ask(throttle)[0] for _ in range(3)] == [True, True, False]

    clock.now = MINUTE_100 + 120  # the start of window 102: window 100 is not the previous one

    assert [ask(throttle)[0] for _ in range(3)] == [True, True, False]


def test_a_rate_per_second_counts_per_second(cache):
    clock = Clock(1000.25)
    throttle = throttle_class(cache, clock, rate="2/second")
    first = [ask(throttle) for _ in range(3)]
    clock.now = 1001.5  # half of second 1000 still in the last second: 2 * 0.5 + 1 = 2

    assert first == [(True, None), (True, None), (False, 1.25)]
    assert ask(throttle) == (True, None)

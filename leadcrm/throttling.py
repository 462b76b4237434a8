"""API throttles (their own module: DRF's settings import them at start-up)."""

from django.conf import settings
from rest_framework import throttling

from leadcrm.cache import count_hit


class SlidingWindowRateThrottle(throttling.SimpleRateThrottle):
    """DRF's rate throttle, counting with two numbers instead of a list of request times.

    DRF's keeps the time of every request of the last period in one cache entry that each
    request reads and writes back whole: two round trips, and at 1,200 requests a minute 10 kB
    each way. This counts the requests of the current period (a window of the clock: minute 0,
    1, 2 … since the epoch for a rate per minute) and reads the count of the one before, in one
    round trip with Redis (leadcrm.cache.count_hit). The last period's requests are estimated
    as this window's count plus the previous window's, weighted by the share of it still inside
    the last period: the sliding window counter, exact when requests come evenly and never
    letting through the double rate at a window's edge that plain fixed windows do. A refused
    request is not counted, as in DRF's.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, self.into = divmod(self.timer(), self.duration)
        self.window_key = f"{self.key}:{int(window)}"
        self.current, self.previous = count_hit(
            self.cache, self.window_key, f"{self.key}:{int(window) - 1}", 2 * self.duration
        )
        # previous * (share of the previous window still in the last period) + current, times
        # the period: whole numbers where the clock is, so an edge case is not lost to rounding.
        estimate = self.previous * (self.duration - self.into) + self.current * self.duration
        if estimate <= self.num_requests * self.duration:
            return True
        self.cache.decr(self.window_key)
        self.current -= 1
        return False

    def wait(self) -> float:
        """Seconds until a request would be let through, if none comes meanwhile."""
        room = self.num_requests - self.current - 1  # for the previous window's share
        if self.previous and room >= 0:
            # The previous window's share shrinks until previous * share fits in the room.
            return self.duration - room * self.duration / self.previous - self.into
        # Not in this window: in the next, this one's count is the previous window's.
        next_into = self.duration - (self.num_requests - 1) * self.duration / self.current
        return self.duration - self.into + next_into


class UserRateThrottle(SlidingWindowRateThrottle, throttling.UserRateThrottle):
    """Per signed-in user (a token counts as its user), rate from ``API_THROTTLE_RATES``."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class AnonRateThrottle(SlidingWindowRateThrottle, throttling.AnonRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


def client_ip(request) -> str:
    """The client's address as the API throttles see it, for the login lockout too: the
    connecting address, or behind ``API_NUM_PROXIES`` reverse proxies the address the outermost
    of them appended to X-Forwarded-For (what a client writes there itself is never trusted)."""
    return throttling.BaseThrottle().get_ident(request)

"""API throttles (their own module: DRF's settings import them at start-up)."""

from django.conf import settings
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in user (a token counts as its user), rate from ``API_THROTTLE_RATES``."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


def client_ip(request) -> str:
    """The client's address as the API throttles see it, for the login lockout too: the
    connecting address, or behind ``API_NUM_PROXIES`` reverse proxies the address the outermost
    of them appended to X-Forwarded-For (what a client writes there itself is never trusted)."""
    return throttling.BaseThrottle().get_ident(request)

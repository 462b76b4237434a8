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

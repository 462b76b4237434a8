import pytest
from django.utils import translation

from tests.webhooks.receiver import running_receiver


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared as written here; a German request earlier in the thread must not
    leave its language active."""
    with translation.override("en"):
        yield


@pytest.fixture
def allow_local(settings):
    """The tests' receiver listens on 127.0.0.1 over plain HTTP: allowed here only."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False


@pytest.fixture
def receiver(allow_local):
    with running_receiver() as receiver:
        yield receiver

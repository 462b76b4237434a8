import pytest

from tests.webhooks.receiver import running_receiver


@pytest.fixture
def allow_local(settings):
    """The tests' receiver listens on 127.0.0.1 over plain HTTP: allowed here only."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False


@pytest.fixture
def receiver(allow_local):
    with running_receiver() as receiver:
        yield receiver

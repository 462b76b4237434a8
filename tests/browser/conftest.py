from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import translation
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_server(transactional_db) -> Iterator[LiveServer]:
    """A live server per test, started with plain-HTTP settings (it builds its middleware once, at
    start, so the per-test ``settings`` fixture would come too late) and stopped before the
    database is flushed, so none of its connections outlives the test."""
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    ):
        server = LiveServer("localhost")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch) -> None:
    """Playwright's sync API runs an event loop in this thread, which makes Django refuse the
    test's own (synchronous, safe) ORM calls. Only for these tests: subprocesses started by
    other tests must not inherit it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Services called directly by a test store texts in the active language: make it English."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def browser() -> Iterator[Browser]:
    """One Chromium per test: Playwright's event loop must be gone before the database is flushed
    and before later tests run, or Django refuses their ORM calls."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's database connections in
            # an async-context store that close_all() no longer reaches once the loop is gone.
            connections.close_all()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Whatever the page does must work under the Content-Security-Policy: Chromium reports each
    # blocked script, style or request on the console.
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"

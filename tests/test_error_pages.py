"""403, 404 and 500 in the app's layout, in the user's language, without debug detail."""

import pytest
from django.conf import settings
from django.urls import path, reverse
from django.utils import translation

from leadcrm.urls import handler500
from leadcrm.urls import urlpatterns as project_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]


def boom(request):
    raise RuntimeError("database password is hunter2")


# The project's URLs plus one that fails, with the project's own 500 handler.
urlpatterns = [path("boom/", boom), *project_urlpatterns]
__all__ = ["handler500", "urlpatterns"]


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def german(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def test_it_shows_the_500_page_in_the_layout_without_debug_detail(client, marketer):
    client.force_login(marketer)
    client.raise_request_exception = False

    response = client.get("/boom/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert 'aria-label="Main navigation"' in page
    assert marketer.get_full_name() in page
    assert "hunter2" not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page


def test_it_shows_the_500_page_in_german(german, marketer):
    german.force_login(marketer)
    german.raise_request_exception = False

    page = german.get("/boom/").content.decode()

    assert '<html lang="de">' in page
    assert "Auf unserer Seite ist ein Fehler aufgetreten" in page
    assert "Zur Lead-Liste" in page


def test_it_still_shows_the_500_page_when_the_layout_cannot_load_the_user(
    client, marketer, monkeypatch
):
    def broken(user):
        raise RuntimeError("the database is gone")

    monkeypatch.setattr("leadcrm.context_processors.user_roles", broken)
    client.force_login(marketer)
    client.raise_request_exception = False

    response = client.get("/boom/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "the database is gone" not in page
    assert 'aria-label="Main navigation"' not in page


def test_it_shows_the_404_page_in_the_layout(client, marketer):
    client.force_login(marketer)

    response = client.get(reverse("leads:detail", args=[987654]))

    page = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in page
    assert 'aria-label="Main navigation"' in page
    assert f'href="{reverse("leads:list")}"' in page
    assert "No Lead matches the given query" not in page


def test_it_shows_the_404_page_in_german(german, marketer):
    german.force_login(marketer)

    page = german.get("/no-such-page/").content.decode()

    assert "Diese Seite gibt es nicht" in page
    assert "Zur Lead-Liste" in page


def test_it_shows_the_404_page_to_anonymous_visitors_with_a_login_link(client):
    page = client.get("/no-such-page/").content.decode()

    assert "This page does not exist" in page
    assert "Go to the login page" in page
    assert 'aria-label="Main navigation"' not in page


def test_it_shows_the_403_page_in_the_layout(client, no_role_user):
    client.force_login(no_role_user)

    response = client.get(reverse("leads:list"))

    assert response.status_code == 403
    page = response.content.decode()
    assert "You do not have access to this page" in page
    assert 'aria-label="Main navigation"' in page


def test_it_shows_the_403_page_in_german(german, no_role_user):
    german.force_login(no_role_user)

    page = german.get(reverse("leads:list")).content.decode()

    assert "Sie haben keinen Zugriff auf diese Seite" in page
    assert "Bitte wenden Sie sich an eine Administratorin oder einen Administrator" in page


def test_it_explains_an_expired_form_in_the_layout(client, marketer):
    client.force_login(marketer)
    client.handler.enforce_csrf_checks = True

    response = client.post(reverse("leads:create"), {"email": "ada@example.com"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "The form has expired" in page
    assert 'aria-label="Main navigation"' in page

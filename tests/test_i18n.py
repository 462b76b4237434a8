import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from leads.lifecycle import Stage
from tests.factories import LeadFactory

PO_FILE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def _back_to_english():
    """LocaleMiddleware leaves German active in this thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.django_db
def test_it_renders_the_lead_list_in_german_for_the_language_cookie(client, sales_rep):
    LeadFactory(owner=sales_rep, stage=Stage.SQL)
    client.force_login(sales_rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    page = client.get(reverse("leads:list")).content.decode()

    assert '<html lang="de">' in page
    assert "Meine Warteschlange" in page
    assert "Abmelden" in page
    assert "Vertriebsqualifiziert (SQL)" in page
    assert "1 Lead" in page


@pytest.mark.django_db
def test_it_renders_the_login_page_in_german_for_accept_language(client):
    page = client.get(reverse("login"), headers={"Accept-Language": "de-DE,de;q=0.9"})

    assert "Anmelden" in page.content.decode()


@pytest.mark.django_db
def test_it_switches_the_language_with_the_set_language_form(client, marketer):
    client.force_login(marketer)

    response = client.post(
        reverse("set_language"), {"language": "de", "next": reverse("leads:list")}, follow=True
    )

    page = response.content.decode()
    assert "Neuer Lead" in page
    assert "Filter anwenden" in page


def test_it_has_a_german_translation_for_every_message():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")


INFORMAL = re.compile(
    r"\b(Gib|gib|du|Du|dein\w*|Dein\w*|dich|Dich|dir|Dir|Stelle sicher|Nutze|Benutze|Prüfe|Lade|"
    r"Wähle|wähle|Überprüfe|Klicke|Gehe)\b"
)


def test_it_addresses_people_formally_in_every_german_message():
    """LeadCRM's catalogue and every library catalogue merged with it (Django, REST framework,
    django-filter, …): no message says "du"."""
    catalog = translation.trans_real.translation("de")._catalog
    # items() walks every merged catalogue, shadowed entries too; a lookup gives what is shown.
    shown = {key: catalog[key] for key, _text in catalog.items()}

    informal = {
        key: text for key, text in shown.items() if isinstance(text, str) and INFORMAL.search(text)
    }

    assert informal == {}
    assert catalog["Enter a valid email address."] == (
        "Bitte geben Sie eine gültige E-Mail-Adresse ein."
    )


@pytest.mark.django_db
def test_it_shows_django_validation_messages_in_formal_german(client, marketer):
    client.force_login(marketer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    page = client.post(
        reverse("leads:create"), {"email": "not-an-address", "created_after": ""}
    ).content.decode()

    assert "Bitte korrigieren Sie Folgendes:" in page
    assert "E-Mail: Bitte geben Sie eine gültige E-Mail-Adresse ein." in page
    assert "Gib eine gültige E-Mail Adresse an." not in page


@pytest.mark.django_db
def test_it_reports_a_bad_list_filter_in_german(client, marketer):
    client.force_login(marketer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    page = client.get(reverse("leads:list"), {"created_after": "gestern"}).content.decode()

    assert "Diese Filter sind ungültig, daher werden keine Leads angezeigt:" in page
    assert "Erstellt ab: Bitte geben Sie ein gültiges Datum ein." in page


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_in_formal_german(client, marketer):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    page = client.post(
        reverse("login"), {"username": "marketer", "password": "wrong"}
    ).content.decode()

    assert "Bitte korrigieren Sie Folgendes:" in page
    assert (
        "Benutzername oder Passwort ist falsch. Bitte beachten Sie, dass beide Felder zwischen "
        "Groß- und Kleinschreibung unterscheiden."
    ) in page

"""The marketers' form pages: who may use them, saving from the editor, the live preview."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from capture import form_services
from capture.models import CaptureForm

pytestmark = pytest.mark.django_db


def editor_post(**overrides) -> dict:
    data = {
        "name": "Trade fair",
        "slug": "trade-fair",
        "is_active": "on",
        "capture_utm": "on",
        "double_opt_in": "on",
        "consent_purpose": "marketing_email",
        "title_en": "Meet us at the fair",
        "fields-TOTAL_FORMS": "3",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "8",
        "fields-0-ORDER": "2",
        "fields-0-name": "last_name",
        "fields-0-required": "on",
        "fields-1-ORDER": "1",
        "fields-1-name": "email",
        "fields-1-label_de": "Ihre E-Mail",
        "fields-2-ORDER": "",
        "fields-2-name": "",
    }
    return data | overrides


def test_reps_and_strangers_stay_out(client, sales_rep):
    assert client.get("/forms/").status_code == 302  # to the login page
    client.force_login(sales_rep)

    assert client.get("/forms/").status_code == 403
    assert client.post("/forms/new/", editor_post()).status_code == 403
    assert not CaptureForm.objects.exists()


def test_a_marketer_saves_a_form_with_its_fields_in_order(client, marketer):
    client.force_login(marketer)

    response = client.post("/forms/new/", editor_post())

    saved = CaptureForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/forms/{saved.pk}/"
    assert (saved.name, saved.slug, saved.title_en, saved.double_opt_in) == (
        "Trade fair",
        "trade-fair",
        "Meet us at the fair",
        True,
    )
    assert list(saved.fields.values_list("name", "label_de", "required")) == [
        ("email", "Ihre E-Mail", True),
        ("last_name", "", True),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fields-2-name": "last_name"}, "Each lead field once: Last name."),
        ({"slug": "not a slug"}, "Enter a valid “slug”"),
        ({"allowed_origins": "www.partner.example"}, "is not an origin"),
        ({"redirect_url": "not a url"}, "Enter a valid URL."),
    ],
)
def test_a_bad_form_is_shown_again_and_nothing_is_saved(client, marketer, overrides, message):
    client.force_login(marketer)

    response = client.post("/forms/new/", editor_post(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CaptureForm.objects.exists()


def test_the_preview_shows_what_is_typed_before_it_is_saved(client, marketer):
    client.force_login(marketer)

    response = client.post(
        "/forms/preview/",
        editor_post(title_de="Treffen Sie uns", preview_language="de"),
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Treffen Sie uns" in page
    assert "Ihre E-Mail" in page
    assert page.index("Ihre E-Mail") < page.index("Nachname")
    assert not CaptureForm.objects.exists()


def test_the_list_costs_the_same_queries_for_one_form_and_for_five(client, marketer):
    client.force_login(marketer)
    counts = []
    for total in (1, 5):
        for n in range(CaptureForm.objects.count(), total):
            form_services.capture_form_save(
                capture_form=CaptureForm(name=f"Form {n}", slug=f"form-{n}"), fields=[]
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/forms/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]

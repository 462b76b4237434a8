from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

from django.utils.translation import gettext_lazy, override

from leadcrm.renderers import JSONRenderer

BERLIN_WINTER = timezone(timedelta(hours=1))


def render(data, accepted="application/json", context=None) -> bytes:
    return JSONRenderer().render(data, accepted, context or {})


def test_it_writes_compact_utf8_json_with_z_for_utc():
    data = {
        "name": "Jürgen Groß",
        "created_at": datetime(2026, 11, 23, 9, 30, 0, 250000, tzinfo=UTC),
        "local": datetime(2026, 11, 23, 10, 30, tzinfo=BERLIN_WINTER),
        "on": date(2026, 11, 23),
        "score": 12.5,
        "tags": ["a", None, True],
    }

    assert (
        render(data)
        == (
            '{"name":"Jürgen Groß","created_at":"2026-11-23T09:30:00.250000Z",'
            '"local":"2026-11-23T10:30:00+01:00","on":"2026-11-23","score":12.5,'
            '"tags":["a",null,true]}'
        ).encode()
    )


def test_what_orjson_does_not_know_is_written_as_drf_writes_it():
    data = {
        "amount": Decimal("1234.50"),
        "label": gettext_lazy("Customer"),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "wait": timedelta(hours=2),
        7: "a key that is a number",
    }

    with override("de"):
        rendered = render(data)

    assert rendered == (
        b'{"amount":1234.5,"label":"Kunde",'
        b'"id":"12345678-1234-5678-1234-567812345678","wait":"7200.0",'
        b'"7":"a key that is a number"}'
    )


def test_line_separators_are_escaped_for_javascript():
    assert render({"note": "one\u2028two\u2029three"}) == b'{"note":"one\\u2028two\\u2029three"}'


def test_an_indent_asked_for_and_numbers_beyond_64_bits_are_written_by_drf():
    assert render({"a": [1]}, "application/json; indent=2") == b'{\n  "a": [\n    1\n  ]\n}'
    assert render({"big": 2**70}) == b'{"big":1180591620717411303424}'
    assert render(None) == b""

"""The one CSV escaping rule every export uses (OWASP CSV injection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.csv_export import csv_cell, csv_lines, csv_response


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\tplain after a tab",
        "\rplain after a carriage return",
        "\uff1d1+1",  # full-width equals sign
    ],
)
def test_formula_triggers_get_a_leading_apostrophe(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["+46700000001", "Hej", "", " =not first", "a=b", 42, -5, 1.5])
def test_phones_plain_text_and_numbers_are_kept(value: object) -> None:
    assert csv_cell(value) == value


def test_none_is_empty_and_datetimes_are_utc_iso() -> None:
    stockholm = timezone(timedelta(hours=1))
    assert csv_cell(None) == ""
    assert csv_cell(datetime(2026, 3, 1, 13, 0, tzinfo=stockholm)) == "2026-03-01T12:00:00+00:00"
    assert csv_cell(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == "2026-03-01T12:00:00+00:00"


def test_lines_escape_every_cell_and_quote_as_csv() -> None:
    lines = list(csv_lines(("a", "b"), [("\tx", 'say "hi", ok'), (None, "+4670")]))
    assert lines == ["a,b\r\n", '\'\tx,"say ""hi"", ok"\r\n', ",+4670\r\n"]


def test_response_is_a_private_stream() -> None:
    response = csv_response(iter(["a\r\n"]), "x.csv")
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Cache-Control"] == "private, no-store"

"""Number and duration formatting for staff figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.templatetags.switchboard import age, per_second, thousands


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (timedelta(0), "0 s"),
        (timedelta(seconds=59.9), "59 s"),
        (timedelta(minutes=3, seconds=12), "3 min 12 s"),
        (timedelta(hours=2, minutes=5, seconds=9), "2 h 5 min"),
        (timedelta(days=1, hours=4), "1 day 4 h"),
        (timedelta(days=3, hours=4), "3 days 4 h"),
        (timedelta(seconds=-5), "0 s"),
    ],
)
def test_age(value: timedelta | None, text: str) -> None:
    assert age(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (1 / 300, "0.0033"),
        (1 / 60, "0.017"),
        (0.5, "0.5"),
        (2.0, "2"),
        (2.54, "2.5"),
        (1249.6, "1\u202f250"),
    ],
)
def test_per_second(value: float, text: str) -> None:
    assert per_second(value) == text


def test_thousands() -> None:
    assert thousands(1234567) == "1\u202f234\u202f567"
    assert thousands(0) == "0"
    assert thousands(None) == "—"

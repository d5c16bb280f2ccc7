"""The voice_start answer for every routing combination, checked against 46elks' action format."""

from __future__ import annotations

from typing import Any

import pytest

from calls.routing import voice_action
from numbers.models import PhoneNumber

BASE = "https://sb.example"
ALLOWED_KEYS = {
    "connect",
    "timeout",
    "recordcall",
    "busy",
    "failed",
    "success",
    "next",
    "whenhangup",
    "callerid",
    "play",
    "skippable",
    "record",
    "timelimit",
    "silencedetection",
    "hangup",
}


@pytest.fixture(autouse=True)
def _base(settings) -> None:
    settings.PUBLIC_BASE_URL = BASE


def _number(**routing) -> PhoneNumber:
    fields = {"hook_token": "tok", "status": "active", "has_voice": True, "country": "se"}
    return PhoneNumber(**{**fields, **routing})


def _check_format(action: dict[str, Any]) -> None:
    """Every key is a documented one; nested outcomes are actions themselves."""
    assert set(action) <= ALLOWED_KEYS, set(action) - ALLOWED_KEYS
    for key in ("busy", "failed", "success", "next"):
        if isinstance(action.get(key), dict):
            _check_format(action[key])
    if "connect" in action:
        assert action["connect"].startswith("+") and 5 <= action["timeout"] <= 120


def test_one_forward() -> None:
    action = voice_action(_number(voice_forwards=[{"to": "+46701111111", "timeout": 25}]))
    _check_format(action)
    assert action == {
        "connect": "+46701111111",
        "timeout": 25,
        "whenhangup": f"{BASE}/hooks/elks/tok/hangup/",
    }


def test_several_forwards_fall_through_in_order_then_voicemail() -> None:
    action = voice_action(
        _number(
            voice_forwards=[
                {"to": "+46701111111", "timeout": 10},
                {"to": "+46702222222", "timeout": 20},
            ],
            voicemail_enabled=True,
        )
    )
    _check_format(action)
    assert action["connect"] == "+46701111111"
    second = action["busy"]
    assert action["failed"] == second and second["connect"] == "+46702222222"
    voicemail = second["failed"]
    assert voicemail["play"].endswith("/static/audio/voicemail-greeting.wav")
    assert voicemail["next"]["record"] == f"{BASE}/hooks/elks/tok/voicemail/"


def test_recording_forwarded_calls() -> None:
    action = voice_action(
        _number(voice_forwards=[{"to": "+46701111111", "timeout": 10}], record_calls=True)
    )
    _check_format(action)
    assert action["recordcall"] == f"{BASE}/hooks/elks/tok/recording/"


def test_voicemail_only() -> None:
    action = voice_action(_number(voicemail_enabled=True))
    _check_format(action)
    assert "play" in action and action["whenhangup"].endswith("/hangup/")


@pytest.mark.parametrize(
    "number",
    [
        _number(),  # no routing
        _number(voice_forwards=[{"to": "+46701111111"}], status="quarantined"),
        _number(voice_forwards=[{"to": "+46701111111"}], has_voice=False),
    ],
)
def test_polite_hangup_without_routing(number: PhoneNumber) -> None:
    assert voice_action(number) == {"hangup": "busy"}

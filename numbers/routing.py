"""The call action the dashboard answers to 46elks' `voice_start`, derived from routing.

Pure functions of a number's settings, so the answer is computed from the database inside
the request (no broker, no worker: a non-2xx answer would end the caller's call).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.templatetags.static import static

from numbers.models import PhoneNumber

Action = dict[str, Any]

DEFAULT_RING_TIMEOUT = 20
VOICEMAIL_TIMELIMIT = 120


def hook_url(number: PhoneNumber, kind: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/hooks/elks/{number.hook_token}/{kind}/"


# The token in a callback URL is the only key to our hooks: whoever has it can post events
# for the number. Users never see it; staff see it behind "Technical details".
_HOOK_TOKEN = re.compile(r"(/hooks/elks/)[^/\s\"'?#]+(?=/)")


def redact_callback_tokens(text: str) -> str:
    """``text`` with every callback token replaced by "…" (the URL's shape stays readable)."""
    return _HOOK_TOKEN.sub(r"\1…", text)


def callback_urls(number: PhoneNumber) -> dict[str, str]:
    """What 46elks holds for a number: every inbound event comes to this dashboard.

    Only for the number's capabilities: 46elks refuses e.g. an mms_url on a number without MMS.
    """
    urls = {}
    if number.has_sms:
        urls["sms_url"] = hook_url(number, "sms")
    if number.has_mms:
        urls["mms_url"] = hook_url(number, "mms")
    if number.has_voice:
        urls["voice_start"] = hook_url(number, "voice")
    return urls


def greeting_url(number: PhoneNumber) -> str:
    """The tenant's uploaded greeting by its unguessable URL, or the built-in one."""
    greeting = number.voicemail_greeting
    if greeting is not None:
        return f"{settings.PUBLIC_BASE_URL}/media/greetings/{greeting.public_token}/"
    return f"{settings.PUBLIC_BASE_URL}{static('audio/voicemail-greeting.wav')}"


def voicemail_action(number: PhoneNumber) -> Action:
    return {
        "play": greeting_url(number),
        "skippable": False,
        "next": {
            "record": hook_url(number, "voicemail"),
            "timelimit": VOICEMAIL_TIMELIMIT,
            "silencedetection": "yes",
        },
    }


def voice_action(number: PhoneNumber) -> Action:
    """The whole call plan: forwards in order, each falling through on busy/failed, then
    voicemail when enabled; a polite hangup when nothing is configured or routing stopped."""
    if not number.is_routable or not number.has_voice:
        return {"hangup": "busy"}
    fallback: Action | None = voicemail_action(number) if number.voicemail_enabled else None
    plan = fallback
    for forward in reversed(number.voice_forwards or []):
        step: Action = {
            "connect": forward["to"],
            "timeout": int(forward.get("timeout") or DEFAULT_RING_TIMEOUT),
        }
        if number.record_calls:
            step["recordcall"] = hook_url(number, "recording")
        if plan is not None:
            step["busy"] = plan
            step["failed"] = plan
        plan = step
    if plan is None:
        return {"hangup": "busy"}
    return {**plan, "whenhangup": hook_url(number, "hangup")}

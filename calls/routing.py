"""Voice routing: the call action the dashboard answers to 46elks' `voice_start`.

Pure functions of a number's settings, so the answer is computed from the database inside
the request (no broker, no worker: a non-2xx answer would end the caller's call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.templatetags.static import static

from numbers.hooks import hook_url
from numbers.models import PhoneNumber

Action = dict[str, Any]

DEFAULT_RING_TIMEOUT = 20
VOICEMAIL_TIMELIMIT = 120


def greeting_url(number: PhoneNumber) -> str:
    """The tenant's uploaded greeting by its unguessable URL, or the built-in one.

    The choice is PhoneNumber.voicemail_greeting, a string FK to calls.Greeting: numbers'
    code never imports calls for it (see numbers/models.py)."""
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


# --- the plan in words -----------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceStep:
    """One step of the call plan for people. `after` says what leads to it from the step
    before: "" for the first step, "busy_or_no_answer" after a forward that failed."""

    kind: str  # "ring" | "voicemail" | "hangup" | "other"
    after: str = ""
    to: str = ""
    seconds: int = 0
    recorded: bool = False
    greeting: str = ""
    record_limit: int = 0


def voice_steps(number: PhoneNumber) -> list[VoiceStep]:
    """The plan `voice_action` answers, walked step by step: the summary on the number page
    is read from the very action 46elks gets, so the two cannot disagree."""
    return action_steps(voice_action(number), number)


def action_steps(action: Action, number: PhoneNumber) -> list[VoiceStep]:
    steps: list[VoiceStep] = []
    after = ""
    node: object = action
    while isinstance(node, dict) and len(steps) < 10:
        if "connect" in node:
            steps.append(
                VoiceStep(
                    kind="ring",
                    after=after,
                    to=str(node["connect"]),
                    seconds=int(node.get("timeout") or DEFAULT_RING_TIMEOUT),
                    recorded="recordcall" in node,
                )
            )
            # voice_action puts the same fallback under `busy` and `failed`.
            node, after = node.get("busy") or node.get("failed"), "busy_or_no_answer"
        elif "play" in node:
            follow = node.get("next")
            limit = follow.get("timelimit", 0) if isinstance(follow, dict) else 0
            steps.append(
                VoiceStep(
                    kind="voicemail" if isinstance(follow, dict) and "record" in follow else "play",
                    after=after,
                    greeting=_greeting_name(str(node["play"]), number),
                    record_limit=int(limit or 0),
                )
            )
            node = follow.get("next") if isinstance(follow, dict) else None
            after = "afterwards"
        elif "hangup" in node:
            steps.append(VoiceStep(kind="hangup", after=after))
            node = None
        else:
            steps.append(VoiceStep(kind="other", after=after))
            node = None
    return steps


def _greeting_name(url: str, number: PhoneNumber) -> str:
    greeting = number.voicemail_greeting
    if greeting is not None and url == greeting_url(number):
        return greeting.name
    return ""  # the built-in greeting

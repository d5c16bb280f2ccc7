"""The 46elks events calls reacts to: registered in CallsConfig.ready."""

from __future__ import annotations

from providers.events import register


def register_handlers() -> None:
    from calls.services import call_hangup, recording_received

    register("elks", "hangup", call_hangup)
    register("elks", "recording", recording_received)
    register("elks", "voicemail", recording_received)

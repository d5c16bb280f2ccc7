"""A number's history in sentences: who did what, in words, from NumberEvent rows.

The codes are written by numbers.services, numbers.sync and numbers.infobip_services; a code
this module does not know (an old or a new one) still reads as words, never as the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.phone import for_humans
from numbers.models import NumberEvent, PhoneNumber

Detail = Mapping[str, Any]


def number_history(number: PhoneNumber, *, size: int = 30) -> list[NumberEvent]:
    """The newest events of a number, each with its `sentence` (one query)."""
    events = list(number.events.select_related("actor")[:size])
    for event in events:
        event.sentence = event_sentence(event)  # type: ignore[attr-defined]  # for the page
    return events


def event_sentence(event: NumberEvent) -> str:
    who = event.actor.get_full_name() if event.actor is not None else ""
    detail = event.detail if isinstance(event.detail, dict) else {}
    describe = _SENTENCES.get(event.action)
    if describe is None:
        return f"{who or 'The system'}: {readable_code(event.action)}."
    return describe(who, detail)


def readable_code(code: str) -> str:
    """`routing_reapplied` → "routing reapplied": the fallback for a code without a sentence."""
    words = code.replace(".", " ").replace("_", " ").strip()
    return words or "something changed"


def _by(who: str, did: str, *, passive: str) -> str:
    return f"{who} {did}" if who else passive


def _routing_changed(who: str, d: Detail) -> str:
    changed = _by(who, "changed the routing", passive="The routing was changed")
    return f"{changed}: {routing_words(d)}."


def routing_words(d: Detail) -> str:
    """The routing saved with a `routing_changed` event (numbers.services._routing_summary)."""
    forwards = [for_humans(str(f)) for f in d.get("forwards") or []]
    calls = "calls ring " + " then ".join(forwards) if forwards else "calls are not forwarded"
    if d.get("voicemail"):
        calls += ", then go to voicemail" if forwards else ", voicemail answers"
    if d.get("record"):
        calls += ", recorded"
    sms = []
    if d.get("sms_forward_to"):
        sms.append(f"SMS forwarded to {for_humans(str(d['sms_forward_to']))}")
    if d.get("sms_webhook"):
        sms.append("SMS posted to your webhook")
    if d.get("autoreply"):
        sms.append("automatic reply on")
    return "; ".join([calls, *sms]) if sms else f"{calls}; SMS kept in the inbox only"


_SENTENCES: dict[str, Callable[[str, Detail], str]] = {
    "rented": lambda who, d: (
        (
            "46elks confirmed the rental"
            if d.get("source") == "sync"
            else _by(who, "rented the number", passive="The number was rented")
        )
        + "."
    ),
    "rental_abandoned": lambda who, d: "46elks never confirmed the rental: nothing was rented.",
    "imported": lambda who, d: (
        f"Found at {'Infobip' if d.get('source') == 'infobip' else '46elks'} and added to this "
        "account."
    ),
    "released_at_provider": lambda who, d: (
        "The number was released at the provider"
        + (f" ({d['reason']})" if d.get("reason") else "")
        + "."
    ),
    "routing_changed": _routing_changed,
    "routing_reapplied": lambda who, d: (
        _by(
            who,
            "set our routing at 46elks again",
            passive="Our routing was set at 46elks again",
        )
        + " (it had been changed there)."
    ),
    "token_rotated": lambda who, d: (
        _by(who, "rotated the callback URLs", passive="The callback URLs were rotated")
        + (
            ": the old ones worked a few more hours."
            if d.get("old_kept", True)
            else ": the old ones stopped at once."
        )
    ),
    "quarantined": lambda who, d: (
        _by(who, "released the number", passive="The number was released")
        + (f": it could be restored for {d['days']} days." if d.get("days") else ".")
    ),
    "restored": lambda who, d: (
        _by(who, "restored the number", passive="The number was restored") + "."
    ),
    "released": lambda who, d: (
        _by(
            who,
            "returned the number to the provider",
            passive="The number went back to the provider",
        )
        + " for good."
    ),
    "bought_at_infobip": lambda who, d: (
        _by(who, "bought the number at Infobip", passive="The number was bought at Infobip") + "."
    ),
    "assigned": lambda who, d: (
        _by(who, "assigned the number to this account", passive="The number was assigned") + "."
    ),
}

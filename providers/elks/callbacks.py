"""Typed 46elks callback payloads: the stored form fields of an event, parsed once.

46elks posts callbacks form-encoded (every value a string); they are stored as received
(providers.callbacks) and parsed here when processed. `from_form` raises PayloadError for a
payload that can never be processed (a missing id, an unknown status), so the event fails
with that reason; what 46elks may leave out gets a default. Timestamps and JSON lists are
read by the same parsers as the REST API's objects (providers.elks.types).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from providers.elks.ids import recording_id_from_callback
from providers.elks.types import parse_json_list, parse_timestamp
from providers.events import PayloadError, require

Form = Mapping[str, Any]

REPORT_STATUSES = frozenset({"sent", "delivered", "failed"})


def callback_time(value: object) -> datetime | None:
    """A callback's time (46elks: UTC, mostly zoneless) as an aware datetime; None when absent
    or unreadable (a message must not be lost to a bad timestamp: callers pick a fallback)."""
    return parse_timestamp(value)


def callback_time_strict(fields: Form, name: str) -> datetime | None:
    """The named time, None when absent; PayloadError when present but unreadable."""
    value = fields.get(name)
    if not value:
        return None
    parsed = parse_timestamp(str(value))
    if parsed is None:
        raise PayloadError(f"malformed timestamp {value!r}")
    return parsed


def _digits(value: object) -> int | None:
    """A whole number sent as digits; anything else (empty, "1.5", "-3") is None."""
    text = str(value if value is not None else "")
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class InboundSms:
    """`sms_url`: a text to one of our numbers. `created` is None when absent or unreadable."""

    id: str
    from_: str
    to: str
    message: str
    created: datetime | None
    created_text: str  # as received, for the log when it is unreadable

    @classmethod
    def from_form(cls, fields: Form) -> InboundSms:
        elks_id, sender, to = require(fields, "id", "from", "to")
        message = fields.get("message") or ""
        if not isinstance(message, str):
            raise PayloadError('malformed "message"')
        raw_created = fields.get("created")
        return cls(
            id=elks_id,
            from_=sender,
            to=to,
            message=message,
            created=callback_time(raw_created),
            created_text=str(raw_created or ""),
        )


@dataclass(frozen=True)
class InboundMms(InboundSms):
    """`mms_url`: as an SMS, plus the image URLs (`image1`, `image2`, … in name order)."""

    images: tuple[str, ...] = ()

    @classmethod
    def from_form(cls, fields: Form) -> InboundMms:
        sms = InboundSms.from_form(fields)
        images = tuple(
            value
            for name, value in sorted(fields.items())
            if name.startswith("image") and isinstance(value, str) and value
        )
        return cls(**{**sms.__dict__, "images": images})


@dataclass(frozen=True)
class DeliveryReport:
    """A message's delivery report (`whendelivered`): sent, delivered or failed."""

    id: str
    status: str
    delivered: datetime | None  # None when absent or unreadable
    delivered_given: bool  # whether 46elks sent a time at all

    @classmethod
    def from_form(cls, fields: Form) -> DeliveryReport:
        elks_id, status = require(fields, "id", "status")
        if status not in REPORT_STATUSES:
            raise PayloadError(f'unknown status "{status}"')
        return cls(
            id=elks_id,
            status=status,
            delivered=callback_time(fields.get("delivered")),
            delivered_given=bool(fields.get("delivered")),
        )


@dataclass(frozen=True)
class HangupEvent:
    """`whenhangup`: how a call ended. `state` defaults to "failed" (the app checks it)."""

    id: str
    state: str
    incoming: bool
    from_: str
    to: str
    created: datetime | None
    start: datetime | None
    duration: int | None
    cost: int | None
    legs: list[Any]
    actions: list[Any]

    @classmethod
    def from_form(cls, fields: Form) -> HangupEvent:
        (callid,) = require(fields, "id")
        return cls(
            id=callid,
            state=str(fields.get("state") or "failed"),
            incoming=fields.get("direction", "incoming") == "incoming",
            from_=str(fields.get("from") or ""),
            to=str(fields.get("to") or ""),
            created=callback_time_strict(fields, "created"),
            start=callback_time_strict(fields, "start"),
            duration=_digits(fields.get("duration")),
            cost=_digits(fields.get("cost")),
            legs=parse_json_list(fields.get("legs")),
            actions=parse_json_list(fields.get("actions")),
        )


@dataclass(frozen=True)
class RecordingEvent:
    """A recording (`record` voicemail or `recordcall`). `recording_id` is the 46elks id taken
    from the callback; the audio is fetched by that id from the configured API base, never
    from `wav` (a callback URL could send the credentials anywhere)."""

    callid: str
    wav: str
    recording_id: str
    duration: int
    created: datetime | None

    @classmethod
    def from_form(cls, fields: Form) -> RecordingEvent:
        callid, wav = require(fields, "callid", "wav")
        recording_id = recording_id_from_callback(wav, callid)
        if recording_id is None:
            raise PayloadError('no 46elks recording id in "wav" or "callid"')
        return cls(
            callid=callid,
            wav=wav,
            recording_id=recording_id,
            duration=_digits(fields.get("duration", "0")) or 0,
            created=callback_time_strict(fields, "created"),
        )

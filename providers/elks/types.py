"""Frozen dataclasses for 46elks objects, and the lenient parsers that build them.

46elks payloads vary (``active`` is ``"yes"`` or ``true``, ``cost`` is ``3500`` or ``"1500"``,
timestamps come with or without fraction and ``Z``), and fields appear and disappear over time.
So every parser reads with defaults, never fails on unknown or missing keys, and keeps the
original dict in ``raw``. Money stays an ``int`` in 46elks units (1/10000 of the currency).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "Account",
    "Call",
    "Image",
    "Mms",
    "Number",
    "Recording",
    "Sms",
    "Subaccount",
    "format_timestamp",
    "parse_bool",
    "parse_int",
    "parse_json_list",
    "parse_timestamp",
]

Raw = Mapping[str, Any]


def parse_timestamp(value: object) -> datetime | None:
    """46elks time (UTC, mostly zoneless) -> aware UTC datetime; ``None`` if absent/unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime | str) -> str:
    """A datetime as 46elks writes it (zoneless UTC with microseconds), for ``start``/``end``."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def parse_int(value: object) -> int | None:
    """``3500``, ``"1500"`` or ``1500.0`` -> int; anything else -> ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return round(float(text))
            except ValueError:
                return None
    return None


def parse_bool(value: object, default: bool | None = None) -> bool | None:
    """``"yes"``/``"no"``, ``true``/``false``, ``1``/``0`` -> bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"yes", "true", "1", "on"}:
            return True
        if text in {"no", "false", "0", "off"}:
            return False
    return default


def _str(raw: Raw, key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_json_list(value: object) -> list[Any]:
    """A list sent as JSON text (callbacks: hang-up ``actions``/``legs``) or as a list (the REST
    API); anything else, malformed JSON included, is an empty list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, list | tuple):
        return list(value)
    return []


@dataclass(frozen=True)
class Account:
    id: str
    displayname: str | None
    email: str | None
    currency: str
    balance: int
    mobilenumber: str | None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Account:
        return cls(
            id=_str(raw, "id") or "",
            displayname=_str(raw, "displayname"),
            email=_str(raw, "email"),
            currency=_str(raw, "currency") or "SEK",
            balance=parse_int(raw.get("balance")) or 0,
            mobilenumber=_str(raw, "mobilenumber"),
            raw=dict(raw),
        )


@dataclass(frozen=True)
class Subaccount:
    id: str
    name: str
    secret: str | None
    usagelimit: int | None
    balanceused: int
    active: bool
    created: datetime | None
    deactivated: datetime | None = None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Subaccount:
        used = raw.get("balanceused", raw.get("usage"))  # "usage" is the seed's older name
        return cls(
            id=_str(raw, "id") or "",
            name=_str(raw, "name") or "",
            secret=_str(raw, "secret") or None,
            usagelimit=parse_int(raw.get("usagelimit")),
            balanceused=parse_int(used) or 0,
            active=bool(parse_bool(raw.get("active"), default=True)),
            created=parse_timestamp(raw.get("created")),
            deactivated=parse_timestamp(raw.get("deactivated")),
            raw=dict(raw),
        )


@dataclass(frozen=True)
class Number:
    id: str
    number: str
    country: str | None
    category: str | None
    capabilities: tuple[str, ...]
    active: bool
    sms_url: str | None = None
    mms_url: str | None = None
    voice_start: str | None = None
    sms_replies: bool | None = None
    name: str | None = None
    expires: datetime | None = None
    deallocated: datetime | None = None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Number:
        caps = raw.get("capabilities") or ()
        if isinstance(caps, str):
            caps = [c for c in caps.split(",") if c]
        return cls(
            id=_str(raw, "id") or "",
            number=_str(raw, "number") or "",
            country=_str(raw, "country"),
            category=_str(raw, "category"),
            capabilities=tuple(str(c).strip() for c in caps),
            active=bool(parse_bool(raw.get("active"), default=True)),
            sms_url=_str(raw, "sms_url"),
            mms_url=_str(raw, "mms_url"),
            voice_start=_str(raw, "voice_start"),
            sms_replies=parse_bool(raw.get("sms_replies")),
            name=_str(raw, "name"),
            expires=parse_timestamp(raw.get("expires")),
            deallocated=parse_timestamp(raw.get("deallocated")),
            raw=dict(raw),
        )


@dataclass(frozen=True)
class Sms:
    """An SMS. ``id`` is ``""`` for a dry run (nothing was stored)."""

    id: str
    status: str | None
    from_: str | None
    to: str | None
    message: str | None
    direction: str | None
    created: datetime | None
    cost: int | None = None
    estimated_cost: int | None = None
    parts: int | None = None
    delivered: datetime | None = None
    flashsms: bool | None = None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Sms:
        return cls(
            **_message_fields(raw),
            estimated_cost=parse_int(raw.get("estimated_cost")),
            parts=parse_int(raw.get("parts")),
            delivered=parse_timestamp(raw.get("delivered")),
            flashsms=parse_bool(raw.get("flashsms")),
        )


def _message_fields(raw: Raw) -> dict[str, Any]:
    """The fields an SMS and an MMS share, as 46elks returns them."""
    return {
        "id": _str(raw, "id") or "",
        "status": _str(raw, "status"),
        "from_": _str(raw, "from"),
        "to": _str(raw, "to"),
        "message": _str(raw, "message"),
        "direction": _str(raw, "direction"),
        "created": parse_timestamp(raw.get("created")),
        "cost": parse_int(raw.get("cost")),
        "raw": dict(raw),
    }


@dataclass(frozen=True)
class Mms:
    id: str
    status: str | None
    from_: str | None
    to: str | None
    message: str | None
    direction: str | None
    created: datetime | None
    cost: int | None = None
    images: tuple[str, ...] = ()
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Mms:
        return cls(
            **_message_fields(raw),
            images=tuple(str(i) for i in parse_json_list(raw.get("images"))),
        )


@dataclass(frozen=True)
class Call:
    id: str
    state: str | None
    from_: str | None
    to: str | None
    direction: str | None
    created: datetime | None
    start: datetime | None = None
    duration: int | None = None
    cost: int | None = None
    actions: tuple[Any, ...] = ()
    legs: tuple[Any, ...] = ()
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Call:
        return cls(
            id=_str(raw, "id") or _str(raw, "callid") or "",
            state=_str(raw, "state"),
            from_=_str(raw, "from"),
            to=_str(raw, "to"),
            direction=_str(raw, "direction"),
            created=parse_timestamp(raw.get("created")),
            start=parse_timestamp(raw.get("start")),
            duration=parse_int(raw.get("duration")),
            cost=parse_int(raw.get("cost")),
            actions=tuple(parse_json_list(raw.get("actions"))),
            legs=tuple(parse_json_list(raw.get("legs"))),
            raw=dict(raw),
        )


@dataclass(frozen=True)
class Recording:
    id: str
    created: datetime | None
    duration: int | None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @property
    def callid(self) -> str:
        # Recording ids are "<callid>-r<n>".
        return self.id.rsplit("-r", 1)[0]

    @classmethod
    def from_api(cls, raw: Raw) -> Recording:
        return cls(
            id=_str(raw, "id") or "",
            created=parse_timestamp(raw.get("created")),
            duration=parse_int(raw.get("duration")),
            raw=dict(raw),
        )


@dataclass(frozen=True)
class Image:
    id: str
    mmsid: str | None
    created: datetime | None
    size: int | None  # 46elks calls it "bytes"
    filetype: str | None
    digest: str | None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> Image:
        image_id = _str(raw, "id") or ""
        return cls(
            id=image_id,
            mmsid=_str(raw, "mmsid") or (image_id.rsplit("-i", 1)[0] if "-i" in image_id else None),
            created=parse_timestamp(raw.get("created")),
            size=parse_int(raw.get("bytes")),
            filetype=_str(raw, "filetype"),
            digest=_str(raw, "digest"),
            raw=dict(raw),
        )

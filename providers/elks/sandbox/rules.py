"""The sandbox's rules: ids, clock, validation, SMS part counting, prices and tiny media files."""

from __future__ import annotations

import io
import math
import re
import secrets
import struct
import threading
import wave
import zlib
from datetime import UTC, datetime, timedelta


class ApiError(Exception):
    """An error answered as 46elks does: an HTTP status with a short plain-text body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def missing(key: str) -> ApiError:
    return ApiError(400, f'Missing key "{key}"')


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def new_secret() -> str:
    return secrets.token_hex(16).upper()


class Clock:
    """UTC timestamps that strictly increase, so newest-first ordering is unambiguous."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime.min

    def now(self) -> datetime:
        with self._lock:
            now = datetime.now(UTC).replace(tzinfo=None)
            if now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now


def ts(value: datetime) -> str:
    """46elks' usual format: zoneless UTC with microseconds."""
    return value.isoformat(timespec="microseconds")


def ts_z(value: datetime) -> str:
    """The ``delivered`` format: seconds precision with a trailing Z."""
    return value.isoformat(timespec="seconds") + "Z"


def ts_plain(value: datetime) -> str:
    """The ``expires`` format: no fraction."""
    return value.isoformat(timespec="seconds")


def parse_query_time(value: str, key: str) -> str:
    """Normalise a ``start``/``end`` filter to the stored format, or refuse it."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f'Invalid "{key}" timestamp') from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return ts(parsed)


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SENDER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,10}$")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
CAPABILITIES = ("sms", "mms", "voice")


def check_e164(value: str, key: str) -> str:
    if not E164.fullmatch(value):  # fullmatch: "$" alone lets a trailing newline in
        raise ApiError(400, f'Invalid "{key}": phone numbers must be in E.164 format (+46...)')
    return value


def check_url(value: str, key: str) -> str:
    if not URL.match(value):
        raise ApiError(400, f'Invalid "{key}": must be an http(s) URL')
    return value


def check_url_or_action(value: str, key: str) -> str:
    # sms_url / voice_start may hold an inline JSON action instead of a URL.
    if value.lstrip().startswith("{"):
        import json

        try:
            parsed = json.loads(value)
        except ValueError:
            raise ApiError(400, f'Invalid "{key}": not valid JSON') from None
        if not isinstance(parsed, dict):
            raise ApiError(400, f'Invalid "{key}": JSON action must be an object')
        return value
    return check_url(value, key)


def check_yes_no(value: str, key: str) -> bool:
    if value not in ("yes", "no"):
        raise ApiError(400, f'Invalid "{key}": must be "yes" or "no"')
    return value == "yes"


def check_amount(value: str, key: str) -> int:
    if not value.isdigit():
        raise ApiError(400, f'Invalid "{key}": must be a whole number of 1/10000 units')
    return int(value)


# GSM 03.38: basic set, and the extension set whose characters take two septets.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_parts(message: str) -> tuple[int, str]:
    """Number of parts and encoding: GSM-7 160 single / 153 per part, UCS-2 70 / 67."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in message):
        septets = sum(2 if c in _GSM_EXTENDED else 1 for c in message)
        return (1 if septets <= 160 else math.ceil(septets / 153)), "gsm7"
    units = len(message.encode("utf-16-le")) // 2
    return (1 if units <= 70 else math.ceil(units / 67)), "ucs2"


# Price per SMS part by destination prefix (longest match), 1/10000 SEK.
_SMS_PRICES = {"+46": 3500, "+47": 4700, "+358": 5200, "+45": 4200, "+44": 3800, "+1": 900}
_SMS_DEFAULT = 6500
MMS_PRICE_SE = 12500
MMS_PRICE_OTHER = 20000
CALL_PRICE_PER_MINUTE = 1500


def sms_unit_price(to: str) -> int:
    for prefix in sorted(_SMS_PRICES, key=len, reverse=True):
        if to.startswith(prefix):
            return _SMS_PRICES[prefix]
    return _SMS_DEFAULT


def mms_price(to: str) -> int:
    return MMS_PRICE_SE if to.startswith("+46") else MMS_PRICE_OTHER


def call_price(seconds: int) -> int:
    return CALL_PRICE_PER_MINUTE * max(1, math.ceil(seconds / 60))


def tiny_wav(seconds: float = 0.25) -> bytes:
    """A valid, silent 8 kHz mono WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


def tiny_png(rgb: tuple[int, int, int] = (70, 130, 180)) -> bytes:
    """A valid 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )

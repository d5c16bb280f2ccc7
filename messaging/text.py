"""SMS text facts: encoding and parts, as 46elks counts and charges them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# GSM 03.38 basic set and the extension set (each extension char costs two septets).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"
SENDER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,10}$")


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    parts: int


def sms_size(text: str) -> SmsSize:
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SmsSize(encoding, 0, 1)
    parts = 1 if units <= single else -(-units // multi)
    return SmsSize(encoding, units, parts)


def is_sender_id(value: str) -> bool:
    """46elks text sender: 3 to 11 letters and digits, not starting with a digit."""
    return bool(SENDER_ID.match(value))

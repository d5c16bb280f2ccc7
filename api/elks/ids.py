"""Public ids on /a1/: 46elks-looking, one letter and the primary key in 32 hex digits.

Messages use `messaging.public_ids` (`s…` SMS, `m…` MMS: the `whendelivered` report carries
the same ids). Calls are `c…`, numbers `n…`, recordings `r…`, as 46elks' own. Ids are not
secret: every lookup is made through the tenant-scoped manager, so another tenant's id is
simply not found. They decode without a query, and anything else decodes to None (404).
"""

from __future__ import annotations

import re

from messaging.public_ids import message_pk, message_public_id

__all__ = [
    "call_pk",
    "call_public_id",
    "message_pk",
    "message_public_id",
    "number_pk",
    "number_public_id",
    "recording_pk",
    "recording_public_id",
]

_HEX = re.compile(r"^[0-9a-f]{32}$")


def _encode(prefix: str, pk: int) -> str:
    return f"{prefix}{pk:032x}"


def _decode(prefix: str, public_id: str) -> int | None:
    if not public_id.startswith(prefix) or not _HEX.match(public_id[1:]):
        return None
    return int(public_id[1:], 16)


def call_public_id(pk: int) -> str:
    return _encode("c", pk)


def call_pk(public_id: str) -> int | None:
    return _decode("c", public_id)


def number_public_id(pk: int) -> str:
    return _encode("n", pk)


def number_pk(public_id: str) -> int | None:
    return _decode("n", public_id)


def recording_public_id(pk: int) -> str:
    return _encode("r", pk)


def recording_pk(public_id: str) -> int | None:
    return _decode("r", public_id)

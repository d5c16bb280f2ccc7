"""Input types the contacts and campaigns endpoints share: text the database can store, ids
in range, and cursors checked before they reach a query.

Each limit is in the OpenAPI description (a pattern, a maximum) so a client, and a schema
fuzzer, sees what is refused; what cannot be said in JSON Schema (lone surrogates, a
cursor's contents) is refused with a 4xx here rather than failing in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from api.errors import ApiDenied
from core.pagination import decode_cursor

# PostgreSQL text cannot hold NUL; a bigint id cannot exceed this.
NO_NUL = r"^[^\x00]*$"
MAX_ID = 2**63 - 1
PAGE_MAX = 100
PAGE_DEFAULT = 50


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("Text must be valid Unicode (no lone surrogates).") from exc
    return value


# Use as Annotated[str, StringConstraints(max_length=..., pattern=NO_NUL), Unicode].
Unicode = AfterValidator(_encodable)


ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def cursor_check(cursor: str | None) -> str | None:
    """The cursor as given, or 400 when it is not one of ours (a tampered or stale value would
    otherwise silently restart at the first page, or carry a date the database refuses)."""
    if not cursor:
        return None
    key = decode_cursor(cursor)
    if key is None or not _in_range(*key):
        raise ApiDenied(400, "Invalid cursor: pass back the `next` value of the previous page.")
    return cursor


def _in_range(created: datetime, pk: int) -> bool:
    if created.tzinfo is None or not 0 < pk <= MAX_ID:
        return False
    try:
        return 1 < created.astimezone(UTC).year < 9999
    except (ValueError, OverflowError):
        return False


def naive_refuse(value: datetime | None) -> datetime | None:
    """Times must carry their offset: a naive one is ambiguous."""
    if value is not None and value.tzinfo is None:
        raise ValueError("Give the time with its UTC offset, e.g. 2026-05-01T09:00:00+02:00.")
    return value

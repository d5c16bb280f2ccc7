"""Cursor pages for the JSON API: `core.pagination.keyset_page`, with a bad cursor refused.

The portal treats a tampered cursor as the first page (a person clicked an old link); a
program that sends a cursor it did not get from us has a bug, and a silent first page would
make it loop or miss rows, so here it is a 400. Times given as filters are checked the same
way: a naive time is read as UTC, one that cannot be represented is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from ninja.errors import HttpError

from api.v1.schemas import MAX_ID
from core.pagination import KeysetPage, decode_cursor, keyset_page


def page_of(queryset: QuerySet[Any], *, cursor: str | None, limit: int) -> KeysetPage:
    if cursor:
        key = decode_cursor(cursor)
        if key is None or not _representable(key[0]) or not 0 < key[1] <= MAX_ID:
            raise HttpError(
                400, "The cursor is not valid: pass back the `next` of the previous page as is."
            )
    return keyset_page(queryset, cursor=cursor or None, size=limit)


def _representable(moment: datetime) -> bool:
    if moment.tzinfo is None:
        return False
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def moment(value: datetime | None, name: str) -> datetime | None:
    """A filter's time, aware and storable, or a 400 that names the parameter."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not _representable(value):
        raise HttpError(400, f"{name}: not a time that can be searched for.")
    return value

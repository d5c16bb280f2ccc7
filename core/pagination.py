"""Keyset pagination on (created, id), newest first: flat cost at any depth.

Shared by every list over a big table (numbers, messages, calls). The cursor is opaque to
users (base64 of the last row's key); a tampered cursor is treated as the first page.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class KeysetPage:
    items: Sequence[Any]
    next_cursor: str | None
    is_first: bool


def encode_cursor(created: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{pk}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        created, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def keyset_page(
    queryset: QuerySet, *, cursor: str | None, size: int, field: str = "created"
) -> KeysetPage:
    key = decode_cursor(cursor)
    qs = queryset.order_by(f"-{field}", "-pk")
    if key is not None:
        created, pk = key
        # The `<=` bound makes it an index range: without it PostgreSQL walks from the newest
        # row and discards every row above the cursor (measured: 282 ms → 0.4 ms at 900k).
        qs = qs.filter(**{f"{field}__lte": created}).filter(
            Q(**{f"{field}__lt": created}) | Q(**{field: created, "pk__lt": pk})
        )
    rows = list(qs[: size + 1])
    items, more = rows[:size], len(rows) > size
    last = items[-1] if items else None
    return KeysetPage(
        items=items,
        next_cursor=encode_cursor(getattr(last, field), last.pk) if more and last else None,
        is_first=key is None,
    )

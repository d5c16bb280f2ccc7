"""46elks' list paging over a queryset: newest first, `start` = created before and `end` =
created after (both exclusive), `limit` rows, `next` = the last row's `created`.

Sending `next` back as `start` continues with the rows created before it. Two rows can share
a `created` value (same microsecond, or rows written in one bulk insert): if such rows
straddled a page boundary, `start` would skip the ones not yet shown. So a page is extended
past `limit` to include every row sharing its last row's `created`; a page can therefore be
longer than `limit`, never with a gap or an overlap.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.db.models import Model, QuerySet

from api.elks import params as p

M = TypeVar("M", bound=Model)


def page(queryset: QuerySet[M], params: p.Params) -> tuple[list[M], datetime | None]:
    size = p.limit(params)
    start, end = p.query_time(params, "start"), p.query_time(params, "end")
    if start is not None:
        queryset = queryset.filter(created__lt=start)
    if end is not None:
        queryset = queryset.filter(created__gt=end)
    rows = list(queryset.order_by("-created", "-pk")[: size + 1])
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last: datetime = rows[-1].created  # type: ignore[attr-defined]  # every listed model has it
    shown = [row.pk for row in rows if row.created == last]  # type: ignore[attr-defined]
    rows += list(queryset.filter(created=last).exclude(pk__in=shown).order_by("-pk"))
    more = queryset.filter(created__lt=last).exists()
    return rows, last if more else None

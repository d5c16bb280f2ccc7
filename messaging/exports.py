"""CSV exports streamed row by row: the file is never built in memory, whatever its size."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from accounts.templatetags.switchboard import format_money

CHUNK = 2000

LOG_FIELDS = (
    "created",
    "direction",
    "kind",
    "status",
    "ours",
    "other",
    "body",
    "parts",
    "cost",
    "elks_id",
    "sent_at",
    "delivered_at",
    "failed_at",
    "error",
)
LOG_HEADER = (*LOG_FIELDS[:9], "cost_formatted", *LOG_FIELDS[9:])

OPTOUT_FIELDS = ("created", "phone", "kind", "word", "actor__email", "message__elks_id")
OPTOUT_HEADER = ("created", "phone", "kind", "word", "recorded_by", "message_elks_id")


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_phone(value):
        # Spreadsheets run cells starting with these as formulas (CSV injection).
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def _lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def _log_rows(qs: QuerySet, currency: str) -> Iterator[Sequence[Any]]:
    cost_at = LOG_FIELDS.index("cost")
    for row in qs.values_list(*LOG_FIELDS).iterator(chunk_size=CHUNK):
        cost = row[cost_at]
        yield (*row[: cost_at + 1], format_money(cost, currency) if cost is not None else "",
               *row[cost_at + 1 :])  # fmt: skip


def _response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def message_log_csv(*, messages: QuerySet, currency: str, filename: str) -> StreamingHttpResponse:
    """`messages` is the filtered log (already scoped); ordered newest first."""
    qs = messages.order_by("-created", "-id")
    return _response(_lines(LOG_HEADER, _log_rows(qs, currency)), filename)


def optout_csv(*, optouts: QuerySet, filename: str) -> StreamingHttpResponse:
    qs = optouts.order_by("-created", "-id").values_list(*OPTOUT_FIELDS)
    return _response(_lines(OPTOUT_HEADER, qs.iterator(chunk_size=CHUNK)), filename)

"""The call log as CSV, streamed row by row: never built in memory, whatever its size."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from accounts.templatetags.switchboard import format_money

CHUNK = 2000

FIELDS = (
    "created",
    "direction",
    "state",
    "source",
    "ours",
    "other",
    "start",
    "duration",
    "cost",
    "elks_id",
    "recording_count",
    "placed_by__email",
    "error",
)
HEADER = (*FIELDS[:9], "cost_formatted", "elks_id", "recordings", "placed_by", "error")
COST = FIELDS.index("cost")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _is_phone(value):
        # Spreadsheets run cells starting with these as formulas (CSV injection).
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def _lines(qs: QuerySet, currency: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in qs.values_list(*FIELDS).iterator(chunk_size=CHUNK):
        cost = row[COST]
        formatted = format_money(cost, currency) if cost is not None else ""
        out: Sequence[Any] = (*row[: COST + 1], formatted, *row[COST + 1 :])
        yield writer.writerow([_cell(v) for v in out])


def call_log_csv(*, calls: QuerySet, currency: str, filename: str) -> StreamingHttpResponse:
    """`calls` is the filtered log, built inside the tenant's scope; newest first."""
    qs = calls.order_by("-created", "-id")
    response = StreamingHttpResponse(_lines(qs, currency), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response

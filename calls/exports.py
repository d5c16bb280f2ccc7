"""The call log as CSV (streamed and escaped by core.csv_export)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from core.csv_export import csv_lines, csv_response
from core.money import format_money

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
    "price",
    "elks_id",
    "recording_count",
    "placed_by__email",
    "error",
)
# The tenant's price only: 46elks' cost is never exported to a tenant.
HEADER = (*FIELDS[:9], "price_formatted", "elks_id", "recordings", "placed_by", "error")
PRICE = FIELDS.index("price")


def _rows(qs: QuerySet, currency: str) -> Iterator[Sequence[Any]]:
    for row in qs.values_list(*FIELDS).iterator(chunk_size=CHUNK):
        price = row[PRICE]
        formatted = format_money(price, currency) if price is not None else ""
        yield (*row[: PRICE + 1], formatted, *row[PRICE + 1 :])


def call_log_csv(*, calls: QuerySet, currency: str, filename: str) -> StreamingHttpResponse:
    """`calls` is the filtered log, built inside the tenant's scope; newest first."""
    qs = calls.order_by("-created", "-id")
    return csv_response(csv_lines(HEADER, _rows(qs, currency)), filename)

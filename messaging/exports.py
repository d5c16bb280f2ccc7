"""The message log and the opt-out ledger as CSV (written by core.csv_export)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from core.csv_export import csv_lines, csv_response
from core.money import format_money

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
    "price",  # the tenant's price, never 46elks' cost
    "elks_id",
    "sent_at",
    "delivered_at",
    "failed_at",
    "error",
    "source",
    "campaign_recipient__campaign__name",
)
LOG_HEADER = (*LOG_FIELDS[:9], "price_formatted", *LOG_FIELDS[9:-1], "campaign")

OPTOUT_FIELDS = ("created", "phone", "kind", "word", "actor__email", "message__elks_id")
OPTOUT_HEADER = ("created", "phone", "kind", "word", "recorded_by", "message_elks_id")


def _log_rows(qs: QuerySet, currency: str) -> Iterator[Sequence[Any]]:
    price_at = LOG_FIELDS.index("price")
    for row in qs.values_list(*LOG_FIELDS).iterator(chunk_size=CHUNK):
        price = row[price_at]
        yield (*row[: price_at + 1], format_money(price, currency) if price is not None else "",
               *row[price_at + 1 :])  # fmt: skip


def message_log_csv(*, messages: QuerySet, currency: str, filename: str) -> StreamingHttpResponse:
    """`messages` is the filtered log (already scoped); ordered newest first."""
    qs = messages.order_by("-created", "-id")
    return csv_response(csv_lines(LOG_HEADER, _log_rows(qs, currency)), filename)


def optout_csv(*, optouts: QuerySet, filename: str) -> StreamingHttpResponse:
    qs = optouts.order_by("-created", "-id").values_list(*OPTOUT_FIELDS)
    return csv_response(csv_lines(OPTOUT_HEADER, qs.iterator(chunk_size=CHUNK)), filename)

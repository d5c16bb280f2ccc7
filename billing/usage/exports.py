"""The usage CSV: by kind, then by number, for one period. Staff's has cost and margin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse

from billing.usage.selectors import MarginRow, UsageReport
from core.csv_export import csv_lines, csv_response


def _amount(value: int) -> str:
    # Plain decimal in currency units (10000ths → 4 places), what a spreadsheet sums.
    sign = "-" if value < 0 else ""
    units, rest = divmod(abs(value), 10000)
    return f"{sign}{units}.{rest:04d}"


def usage_csv(report: UsageReport, *, staff: bool) -> StreamingHttpResponse:
    header = ["section", "item", "events", "quantity", f"price ({report.tenant.currency})"]
    if staff:
        header += ["provider cost", "margin"]

    def rows() -> Iterator[list[Any]]:
        for section, items in (
            ("kind", report.by_kind),
            ("number", report.by_number),
            ("total", [report.total]),
        ):
            for r in items:
                row: list[Any] = [section, r.label, r.events, r.quantity, _amount(r.price)]
                if staff:
                    row += [_amount(r.provider_cost), _amount(r.margin)]
                yield row

    name = f"usage-{report.tenant.slug}-{report.period:%Y-%m}.csv"
    return csv_response(csv_lines(header, rows()), name)


def margin_csv(rows: list[MarginRow], *, name: str) -> StreamingHttpResponse:
    header = ["month", "tenant", "currency", "revenue", "provider cost", "margin", "margin %"]
    lines = (
        [
            f"{r.month:%Y-%m}", r.tenant, r.currency, _amount(r.revenue), _amount(r.cost),
            _amount(r.margin), r.margin_percent,
        ]
        for r in rows
    )  # fmt: skip
    return csv_response(csv_lines(header, lines), name)

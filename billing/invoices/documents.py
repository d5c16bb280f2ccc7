"""An invoice as files: the PDF (WeasyPrint, from an HTML template) and the CSV of its lines.

The PDF is rendered on each request from the stored document; an issued invoice never changes,
so the file does not either. The tenant's CSV has no provider cost column; staff's has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string

from billing.invoices.models import Invoice, InvoiceLine
from billing.invoices.services import TOP_UP
from core.csv_export import csv_lines


def quantity_text(line: InvoiceLine) -> str:
    """The quantity as printed: call seconds as minutes with two decimals."""
    if line.unit == "min":
        return f"{line.quantity / 60:.2f}"
    return str(line.quantity)


def document_context(invoice: Invoice, lines: list[InvoiceLine]) -> dict[str, Any]:
    usage = [line for line in lines if line.kind != TOP_UP]
    for line in lines:
        line.quantity_text = quantity_text(line)  # type: ignore[attr-defined]  # for templates
    return {
        "invoice": invoice,
        "lines": usage,
        "top_ups": [line for line in lines if line.kind == TOP_UP],
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "vat_percent": f"{invoice.vat_rate_bp / 100:g}",
    }


def invoice_pdf(invoice: Invoice, lines: list[InvoiceLine]) -> bytes:
    from weasyprint import HTML  # imported on use: it loads pango at import

    html = render_to_string("billing/invoices/pdf.html", document_context(invoice, lines))
    return bytes(HTML(string=html).write_pdf())


def filename(invoice: Invoice, extension: str) -> str:
    return f"{invoice.reference if invoice.number else f'draft-{invoice.pk}'}.{extension}"


def invoice_csv(invoice: Invoice, lines: list[InvoiceLine], *, staff: bool) -> Iterator[str]:
    header = ["document", "period", "position", "kind", "description", "quantity", "unit",
              "unit_price", "amount", "currency"]  # fmt: skip
    if staff:
        header.append("provider_cost")
    ref = invoice.reference if invoice.number else f"draft-{invoice.pk}"

    def rows() -> Iterator[list[object]]:
        for line in lines:
            row: list[object] = [
                ref, f"{invoice.period:%Y-%m}", line.position, line.kind, line.description,
                quantity_text(line), line.unit, _plain(line.unit_price), _plain(line.amount),
                invoice.currency,
            ]  # fmt: skip
            if staff:
                row.append(_plain(line.provider_cost))
            yield row
        totals = (("subtotal", "Subtotal", invoice.subtotal), ("vat", "VAT", invoice.vat),
                  ("total", "Total", invoice.total))  # fmt: skip
        for kind, label, value in totals:
            period = f"{invoice.period:%Y-%m}"
            row = [ref, period, "", kind, label, "", "", "", _plain(value), invoice.currency]
            if staff:
                row.append("")
            yield row

    return csv_lines(header, rows())


def _plain(value: int) -> Decimal:
    """Money for a spreadsheet: a number (1234.50, -12.5000), never text, no currency."""
    exact = Decimal(value).scaleb(-4)
    return exact.quantize(Decimal("0.01")) if value % 100 == 0 else exact

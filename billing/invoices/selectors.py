"""Invoice reads: the staff list (filters, keyset pages), a tenant's issued documents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.invoices.models import Invoice, InvoiceLine
from core.pagination import KeysetPage, keyset_page

PAGE_SIZE = 50
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_parse(text: str | None) -> date | None:
    """'2026-11' → 2026-11-01; anything else → None (a bad filter shows every month)."""
    match = MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class InvoiceFilters:
    period: date | None = None
    status: str = ""
    tenant: str = ""
    kind: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> InvoiceFilters:
        status = query.get("status", "")
        kind = query.get("kind", "")
        return cls(
            period=month_parse(query.get("period")),
            status=status if status in Invoice.Status.values else "",
            tenant=query.get("tenant", "")[:50],
            kind=kind if kind in Invoice.Kind.values else "",
        )

    @property
    def query(self) -> str:
        """The filters as a query string, for the pager's links."""
        parts = []
        if self.period:
            parts.append(f"period={self.period:%Y-%m}")
        for name in ("status", "tenant", "kind"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        return "&".join(parts)


def staff_invoices_page(*, filters: InvoiceFilters, cursor: str | None) -> KeysetPage:
    """Newest drafted first, two queries whatever the page (rows and their tenants joined)."""
    with scopes_disabled():
        rows = Invoice.objects.select_related("tenant")
        if filters.period:
            rows = rows.filter(period=filters.period)
        if filters.status:
            rows = rows.filter(status=filters.status)
        if filters.kind:
            rows = rows.filter(kind=filters.kind)
        if filters.tenant:
            rows = rows.filter(tenant__slug=filters.tenant)
        return keyset_page(rows, cursor=cursor, size=PAGE_SIZE)


def staff_invoice(invoice_id: int) -> Invoice:
    with scopes_disabled():
        return get_object_or_404(
            Invoice.objects.select_related("tenant", "issued_by"), pk=invoice_id
        )


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    with scopes_disabled():
        return list(InvoiceLine.objects.filter(invoice_id=invoice.pk).order_by("position", "id"))


def tenant_invoices_page(*, cursor: str | None) -> KeysetPage:
    """The current tenant's issued invoices and statements (drafts are staff's only). Runs in
    the tenant's scope, which filters the rows."""
    issued: QuerySet[Invoice] = Invoice.objects.filter(status=Invoice.Status.ISSUED)
    return keyset_page(issued, cursor=cursor, size=PAGE_SIZE, field="issued_at")


def tenant_invoice(*, tenant: Tenant, invoice_id: int) -> Invoice:
    """One issued document of the tenant in scope; 404 for a draft or another tenant's."""
    return get_object_or_404(
        Invoice, pk=invoice_id, tenant_id=tenant.pk, status=Invoice.Status.ISSUED
    )

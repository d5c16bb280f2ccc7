"""Tenant pages: the issued invoices and statements, each one's page, PDF and CSV.

Owners see them; members only when the owner has switched `members_see_invoices` on (the
switch is on the billing page). Drafts are never shown to a tenant; another tenant's document
is 404 (the tenant scope, and the explicit tenant filter in `tenant_invoice`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Membership
from accounts.request_types import TenantRequest
from billing.invoices.documents import document_context, filename, invoice_csv, invoice_pdf
from billing.invoices.forms import MembersSeeInvoicesForm
from billing.invoices.selectors import invoice_lines, tenant_invoice, tenant_invoices_page
from billing.invoices.services import invoices_members_set
from billing.services import account_for
from core.csv_export import csv_response


def invoices_visible(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Owners always; members when the owner allows it (403 otherwise)."""

    @wraps(view)
    def wrapper(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access = request.tenant_access
        if not access.can_manage and not account_for(request.tenant).members_see_invoices:
            raise PermissionDenied("Only the organisation's owners can see its invoices.")
        return view(request, *args, **kwargs)

    # For the isolation sweep: by default a member gets 403, as on an owner's page.
    wrapper.required_tenant_role = Membership.Role.OWNER
    return wrapper


@invoices_visible
def invoices(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    page = tenant_invoices_page(cursor=request.GET.get("after"))
    return render(request, "billing/invoices/list.html", {"section": "billing", "page": page})


@invoices_visible
def invoice(request: TenantRequest, tenant_slug: str, invoice_id: int) -> HttpResponse:
    document = tenant_invoice(tenant=request.tenant, invoice_id=invoice_id)
    context = document_context(document, invoice_lines(document))
    return render(request, "billing/invoices/detail.html", {"section": "billing", **context})


@invoices_visible
def invoice_pdf_view(request: TenantRequest, tenant_slug: str, invoice_id: int) -> HttpResponse:
    document = tenant_invoice(tenant=request.tenant, invoice_id=invoice_id)
    return pdf_response(document.pk, invoice_pdf(document, invoice_lines(document)),
                        filename(document, "pdf"))  # fmt: skip


@invoices_visible
def invoice_csv_view(request: TenantRequest, tenant_slug: str, invoice_id: int) -> HttpResponse:
    document = tenant_invoice(tenant=request.tenant, invoice_id=invoice_id)
    lines = invoice_csv(document, invoice_lines(document), staff=False)
    return csv_response(lines, filename(document, "csv"))


def pdf_response(invoice_id: int, pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(Membership.Role.OWNER)
def invoices_members(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = MembersSeeInvoicesForm(request.POST)
    if form.is_valid():
        allowed = form.cleaned_data["members_see_invoices"]
        invoices_members_set(
            tenant=request.tenant, allowed=allowed, actor=request.user, request=request
        )
        messages.success(
            request,
            "Members can now see invoices and statements."
            if allowed
            else "Only owners can see invoices and statements now.",
        )
    return redirect("billing:overview", tenant_slug=request.tenant.slug)

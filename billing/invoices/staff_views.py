"""Staff pages: every tenant's invoices and statements, drafting a month, adjusting a draft,
issuing it (with a confirmation step), and its files."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from accounts.models import Tenant, User
from billing.invoices.documents import document_context, filename, invoice_csv, invoice_pdf
from billing.invoices.forms import AdjustmentForm, DraftForm, IssueForm
from billing.invoices.selectors import (
    InvoiceFilters,
    invoice_lines,
    staff_invoice,
    staff_invoices_page,
)
from billing.invoices.services import (
    InvoiceError,
    invoice_adjustment_add,
    invoice_adjustment_remove,
    invoice_issue,
    invoices_draft,
)
from billing.invoices.views import pdf_response
from core.csv_export import csv_response


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@staff_required
def invoices(request: HttpRequest) -> HttpResponse:
    filters = InvoiceFilters.from_query(request.GET)
    form = DraftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        report = invoices_draft(period=form.cleaned_data["period"])
        messages.success(
            request,
            f"{report.period:%Y-%m}: {report.drafted} drafted"
            + (f", {report.existing} were drafted before." if report.existing else "."),
        )
        return redirect(f"{request.path}?period={report.period:%Y-%m}")
    return render(
        request,
        "billing/invoices/staff_list.html",
        {
            "page": staff_invoices_page(filters=filters, cursor=request.GET.get("after")),
            "filters": filters,
            "form": form,
            "tenants": Tenant.objects.order_by("name").only("slug", "name"),
        },
    )


def _detail(
    request: HttpRequest, invoice_id: int, form: AdjustmentForm | None = None
) -> HttpResponse:
    document = staff_invoice(invoice_id)
    lines = invoice_lines(document)
    context = document_context(document, lines)
    cost = sum(line.provider_cost for line in lines)
    return render(
        request,
        "billing/invoices/staff_detail.html",
        {
            **context,
            "form": form or AdjustmentForm(),
            "cost": cost,
            "margin": document.subtotal - cost,
        },
        status=400 if form is not None and form.errors else 200,
    )


@staff_required
def invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _detail(request, invoice_id)


@require_POST
@staff_required
def adjustment_add(request: HttpRequest, invoice_id: int) -> HttpResponse:
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        return _detail(request, invoice_id, form)
    try:
        invoice_adjustment_add(
            invoice_id=staff_invoice(invoice_id).pk,
            description=form.cleaned_data["description"],
            amount=form.cleaned_data["amount"],
            actor=_actor(request),
            request=request,
        )
    except InvoiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Adjustment added.")
    return redirect("staff_billing:invoice", invoice_id=invoice_id)


@require_POST
@staff_required
def adjustment_remove(request: HttpRequest, invoice_id: int, line_id: int) -> HttpResponse:
    try:
        invoice_adjustment_remove(
            invoice_id=staff_invoice(invoice_id).pk, line_id=line_id, actor=_actor(request),
            request=request,
        )  # fmt: skip
    except InvoiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Adjustment removed.")
    return redirect("staff_billing:invoice", invoice_id=invoice_id)


@staff_required
def issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    document = staff_invoice(invoice_id)
    if document.is_issued:
        messages.info(request, f"{document.reference} is already issued.")
        return redirect("staff_billing:invoice", invoice_id=invoice_id)
    form = IssueForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = invoice_issue(invoice_id=document.pk, actor=_actor(request), request=request)
        except InvoiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Issued as {issued.reference}.")
        return redirect("staff_billing:invoice", invoice_id=invoice_id)
    return render(
        request,
        "billing/invoices/staff_issue.html",
        {"invoice": document, "form": form},
        status=400 if form.errors else 200,
    )


@staff_required
def pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    document = staff_invoice(invoice_id)
    return pdf_response(document.pk, invoice_pdf(document, invoice_lines(document)),
                        filename(document, "pdf"))  # fmt: skip


@staff_required
def csv(request: HttpRequest, invoice_id: int) -> HttpResponse:
    document = staff_invoice(invoice_id)
    return csv_response(invoice_csv(document, invoice_lines(document), staff=True),
                        filename(document, "csv"))  # fmt: skip

"""The tenant's billing pages: the spend card, the usage page, its chart and CSV.

Tenants see their price only: these views never put a provider cost in a context, a JSON
answer or a CSV (staff get the same figures with cost and margin from
billing.usage.staff_views).
"""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.request_types import TenantRequest
from billing.selectors import period_usage
from billing.services import account_for
from billing.usage import selectors as usage_selectors
from billing.usage.exports import usage_csv


def overview(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    account = account_for(tenant)
    return render(
        request,
        "billing/index.html",
        {
            "section": "billing",
            "usage": period_usage(tenant=tenant),
            "billing_account": account,
            "can_see_invoices": request.tenant_access.can_manage or account.members_see_invoices,
        },
    )


def usage(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The spend card alone: the overview and billing pages poll it (hx-trigger every 60s)."""
    return render(request, "billing/_usage.html", {"usage": period_usage(tenant=request.tenant)})


def _period(request: TenantRequest) -> tuple[date, date]:
    current = period_usage(tenant=request.tenant).period
    return usage_selectors.parse_period(request.GET.get("period"), current), current


def usage_page(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    period, current = _period(request)
    report = usage_selectors.usage_report(
        tenant=request.tenant,
        period=period,
        current=current,
    )
    query = f"?period={report.period:%Y-%m}"
    return render(
        request,
        "billing/usage.html",
        {
            "section": "billing",
            "report": report,
            "staff": False,
            "chart_url": reverse("billing:usage_chart", args=[tenant_slug]) + query,
            "export_url": reverse("billing:usage_export", args=[tenant_slug]) + query,
        },
    )


def usage_chart(request: TenantRequest, tenant_slug: str) -> JsonResponse:
    period, _ = _period(request)
    return JsonResponse(
        usage_selectors.usage_chart(
            tenant=request.tenant,
            period=period,
            staff=False,
        )
    )


def usage_export(request: TenantRequest, tenant_slug: str) -> StreamingHttpResponse:
    period, current = _period(request)
    report = usage_selectors.usage_report(
        tenant=request.tenant,
        period=period,
        current=current,
    )
    return usage_csv(report, staff=False)

from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import TenantRequest
from billing.selectors import usage_this_month


def overview(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "billing/index.html",
        {"section": "billing", "usage_month": usage_this_month(tenant=tenant)},
    )

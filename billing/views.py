from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.selectors import usage_this_month


def overview(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "billing/index.html",
        {"section": "billing", "usage_month": usage_this_month(tenant=tenant)},
    )

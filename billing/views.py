from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import TenantRequest
from billing.selectors import live_usage
from billing.services import account_for


def overview(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    account = account_for(tenant)
    return render(
        request,
        "billing/index.html",
        {
            "section": "billing",
            "usage": live_usage(tenant=tenant),
            "billing_account": account,
            "can_see_invoices": request.tenant_access.can_manage or account.members_see_invoices,
        },
    )


def usage(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The usage card alone: the overview and billing pages poll it (hx-trigger every 60s)."""
    return render(
        request,
        "billing/_usage.html",
        {"usage": live_usage(tenant=request.tenant), "all_time": True},
    )

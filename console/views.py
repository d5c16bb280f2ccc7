"""The tenant portal's overview: figures from the apps below, on one page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.selectors import period_usage
from calls.selectors import unheard_voicemail_count


def dashboard(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "console/dashboard.html",
        {
            "section": "dashboard",
            "usage": period_usage(tenant=tenant),
            "unheard": unheard_voicemail_count(tenant),
        },
    )

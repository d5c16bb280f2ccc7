"""The portal's API page (placeholder until the page lands)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import TenantRequest


def api_page(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "api/page.html", {"section": "api"})

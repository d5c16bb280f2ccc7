"""Staff: a tenant's API limits (placeholder until the page lands)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.access import staff_required
from accounts.models import Tenant


@staff_required
def tenant_api(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=tenant_id)
    return render(request, "api/staff_tenant_api.html", {"tenant": tenant})

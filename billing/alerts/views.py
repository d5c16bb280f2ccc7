"""The tenant's alert banner: owners dismiss an alert (it stays sent: once per period)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Membership
from accounts.request_types import TenantRequest
from billing.alerts.services import alert_dismiss
from billing.models import BillingAlert
from core.redirects import next_url


@require_POST
@role_required(Membership.Role.OWNER)
def dismiss(request: TenantRequest, tenant_slug: str, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(BillingAlert, pk=alert_id, tenant=request.tenant)
    alert_dismiss(alert=alert)
    if request.headers.get("HX-Request"):
        return HttpResponse("")  # the banner's row is swapped out
    return redirect(next_url(request, "billing:overview", tenant_slug=tenant_slug))

"""Staff: a tenant's API limits (per key and per tenant), its keys (no secrets), its requests."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_scopes import scope

from accounts.access import staff_required
from accounts.models import Tenant
from accounts.request_types import SignedInRequest
from api import services as api_services
from api.forms import ApiLimitsForm
from api.htmx import is_htmx
from api.models import ApiKey
from api.selectors import keys_list, request_log_page

LOG_PAGE_SIZE = 25


def _context(request: SignedInRequest, tenant: Tenant, form: ApiLimitsForm) -> dict[str, object]:
    with scope(tenant=tenant.pk):
        return {
            "tenant": tenant,
            "form": form,
            "keys": keys_list(tenant=tenant),
            "log": request_log_page(
                tenant=tenant, cursor=request.GET.get("after"), size=LOG_PAGE_SIZE
            ),
        }


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def tenant_api(request: SignedInRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    current = api_services.settings_for(tenant)
    if request.method != "POST":
        context = _context(request, tenant, ApiLimitsForm.for_settings(current))
        template = "api/staff_tenant_api.html"
        return render(request, f"{template}#requests" if is_htmx(request) else template, context)
    form = ApiLimitsForm.for_settings(current, request.POST)
    if not form.is_valid():
        context = _context(request, tenant, form)
        return render(request, "api/staff_tenant_api.html", context, status=400)
    changes = form.changes(current)
    if changes:
        api_services.settings_change(tenant=tenant, actor=request.user, request=request, **changes)
        messages.success(request, "API limits saved; they apply from the next request.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("staff_api:tenant_api", slug=tenant.slug)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_revoke(request: SignedInRequest, slug: str, key_id: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    with scope(tenant=tenant.pk):
        key: ApiKey = get_object_or_404(
            ApiKey.objects.select_related("created_by", "tenant"), tenant=tenant, key_id=key_id
        )
    if request.method == "POST":
        if api_services.key_revoke(key=key, actor=request.user, request=request):
            messages.success(request, f"“{key.label}” is revoked: requests with it are refused.")
        else:
            messages.info(request, f"“{key.label}” was already revoked.")
        return redirect("staff_api:tenant_api", slug=tenant.slug)
    return render(
        request,
        "api/key_revoke.html",
        {
            "key": key,
            "staff_tenant": tenant,
            "base_template": "base.html",
            "cancel_url": reverse("staff_api:tenant_api", args=[tenant.slug]),
        },
    )

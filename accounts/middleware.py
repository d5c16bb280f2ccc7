"""Tenant resolution and scoping for `/t/<tenant_slug>/...`; see accounts.access."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_scopes import scope, scopes_disabled

from accounts.access import TenantAccess
from accounts.models import Membership, Tenant
from accounts.services import staff_view_start


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]  # views: request_types.TenantRequest
        request.tenant_access = None  # type: ignore[attr-defined]  # as above
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)

        if any(ns == "admin" or ns.startswith("staff") for ns in match.namespaces):
            with scopes_disabled():
                return self.get_response(request)

        slug = match.kwargs.get("tenant_slug")
        if slug is None:
            return self.get_response(request)

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = self._access(request, slug)
        request.tenant = access.tenant  # type: ignore[attr-defined]  # as above
        request.tenant_access = access  # type: ignore[attr-defined]  # as above
        with scope(tenant=access.tenant.pk):
            return self.get_response(request)

    def _access(self, request: HttpRequest, slug: str) -> TenantAccess:
        user = request.user
        tenant = Tenant.objects.filter(slug=slug).first()
        if user.is_staff:
            if tenant is None:
                raise Http404
            staff_view_start(request=request, tenant=tenant)
            return TenantAccess(tenant=tenant, user=user, membership=None, staff_view=True)

        if tenant is None or tenant.status == Tenant.Status.PROVISIONING:
            raise Http404
        membership = Membership.objects.filter(user=user, tenant=tenant).first()
        if membership is None:
            raise Http404
        if tenant.status != Tenant.Status.ACTIVE:
            raise PermissionDenied(f"{tenant.name} is {tenant.get_status_display().lower()}.")
        return TenantAccess(tenant=tenant, user=user, membership=membership, staff_view=False)

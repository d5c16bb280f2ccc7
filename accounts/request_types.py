"""Typed requests for views, so `request.tenant` and `request.user` type-check.

Django's `HttpRequest` knows neither attribute's real type: `user` is typed as
`User | AnonymousUser` and `tenant` does not exist on it at all. These subclasses are never
instantiated; they only tell the type checker what `accounts.middleware.TenantMiddleware` and
the authentication middleware have already guaranteed by the time a view runs.

- `SignedInRequest`: views behind `login_required` / `staff_required`.
- `TenantRequest`: views under `/t/<tenant_slug>/` (the middleware answered 404/403 otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.access import TenantAccess
    from accounts.models import Tenant, User


class SignedInRequest(HttpRequest):
    """A request whose user is signed in (checked before the view runs)."""

    user: User


class TenantRequest(SignedInRequest):
    """A request to a tenant page: the middleware has resolved the tenant and the access."""

    tenant: Tenant
    tenant_access: TenantAccess

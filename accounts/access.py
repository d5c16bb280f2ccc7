"""Who may see what: the one tenant-scoping mechanism every app uses.

How a tenant page is protected
------------------------------
1. Every tenant page lives under ``/t/<tenant_slug>/`` (see ``config/urls.py``).
2. ``accounts.middleware.TenantMiddleware`` resolves the URL before the view runs. When the
   pattern has a ``tenant_slug`` it:
   - sends anonymous visitors to sign-in;
   - answers **404** when the tenant does not exist or the user is not a member (so tenant
     names and object ids do not leak);
   - answers **403** when the tenant is suspended or closed (members only; staff pass);
   - allows staff on any tenant, recording the start of a *staff view* in the audit log;
   - sets ``request.tenant`` and ``request.tenant_access`` and runs the whole request, template
     rendering included, inside ``django_scopes.scope(tenant=...)``.
3. Tenant-owned models subclass ``accounts.models.TenantOwned``: their manager refuses to query
   outside a scope (``ScopeError``), and inside one it filters on the tenant. So
   ``get_object_or_404(Model, pk=pk)`` in a tenant view cannot reach another tenant's row.
4. Views that need more than membership declare it with ``@role_required(Role.OWNER)``
   (**403** for a lower role). The decorator also records the role on the view so the isolation
   test that walks every ``/t/<slug>/`` URL knows what to expect.
5. Celery tasks re-enter a tenant's scope through ``accounts.tasks.TenantTask``.

Staff-only areas (``/staff/``, ``/admin/``) run with scopes disabled, explicitly, in the middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Membership, Tenant, User

ROLE_RANK = {Membership.Role.MEMBER: 1, Membership.Role.OWNER: 2}


@dataclass(frozen=True)
class TenantAccess:
    """What the signed-in user may do in the current tenant."""

    tenant: Tenant
    user: User
    membership: Membership | None
    staff_view: bool

    @property
    def role(self) -> str:
        # Staff act with an owner's rights inside a portal.
        if self.staff_view:
            return Membership.Role.OWNER
        assert self.membership is not None
        return self.membership.role

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Membership.Role(self.role)] >= ROLE_RANK[Membership.Role(role)]

    @property
    def can_manage(self) -> bool:
        return self.has_role(Membership.Role.OWNER)


def role_required(
    role: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Require at least `role` in the current tenant (403 otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            access: TenantAccess | None = getattr(request, "tenant_access", None)
            if access is None:
                raise PermissionDenied("This page belongs to a tenant.")
            if not access.has_role(role):
                raise PermissionDenied("Your role in this organisation does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.required_tenant_role = role  # type: ignore[attr-defined]  # read by the isolation test
        return wrapper

    return decorator


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff console pages: sign-in for anonymous users, 404 for customers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            from django.http import Http404

            raise Http404
        return view(request, *args, **kwargs)

    wrapper.staff_only = True  # type: ignore[attr-defined]  # read by the isolation test
    return wrapper


def user_tenants(user: User) -> list[Membership]:
    """The memberships a customer can use right now (active tenants only)."""
    return list(
        Membership.objects.filter(user=user, tenant__status=Tenant.Status.ACTIVE)
        .select_related("tenant")
        .order_by("tenant__name")
    )

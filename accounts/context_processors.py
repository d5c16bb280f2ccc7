from django.conf import settings
from django.http import HttpRequest


def tenancy(request: HttpRequest) -> dict[str, object]:
    access = getattr(request, "tenant_access", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "tenant_access": access,
        "staff_view": bool(access and access.staff_view),
        # Only `make demo` has a demo control panel (console.staff_views.demo_panel).
        "demo_mode": bool(getattr(settings, "DEMO_ADDR", None)),
    }

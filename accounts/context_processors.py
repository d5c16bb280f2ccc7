from django.http import HttpRequest


def tenancy(request: HttpRequest) -> dict[str, object]:
    access = getattr(request, "tenant_access", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "tenant_access": access,
        "staff_view": bool(access and access.staff_view),
    }

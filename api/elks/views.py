"""46elks-compatible endpoints: the paths, form encoding, shapes and plain-text errors of
46elks' /a1/ API, answered from the tenant's own data at the tenant's own prices.

api.middleware has authenticated the key, rate-limited it and entered the tenant's scope.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from api.errors import scope_require
from api.request_types import KeyRequest
from billing.selectors import period_usage


def elks_json(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


@require_GET
def me(request: KeyRequest) -> HttpResponse:
    """The account as 46elks shows a subaccount its own: `balance` is what the tenant may
    still spend this period (its limit or prepaid balance, at its own prices)."""
    scope_require(request, "read")
    tenant = request.tenant
    usage = period_usage(tenant=tenant)
    return elks_json(
        {
            "id": request.api_key.key_id,
            "displayname": tenant.name,
            "currency": settings.ELKS_DEFAULT_CURRENCY,
            "balance": usage.remaining,
        }
    )

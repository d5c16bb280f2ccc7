"""What an API endpoint's request carries (set by api.middleware.ApiMiddleware)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Tenant
from api.models import ApiKey


class KeyRequest(HttpRequest):
    api_key: ApiKey
    tenant: Tenant
    idempotency_key: str | None

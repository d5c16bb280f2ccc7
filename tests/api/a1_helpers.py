"""Helpers shared by the /a1/ tests (tests/api/test_a1_*.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.test import Client

from accounts.models import Tenant
from api.models import Scope
from api.services import settings_change
from tests.api.conftest import Keyed, make_key

FORM = "application/x-www-form-urlencoded"
CUSTOMER = "+46700000001"


def tenant_key(tenant: Tenant, scopes: list[str] | None = None) -> Keyed:
    """A key of `tenant` whose rate limits a scripted session cannot reach (the limits have
    their own tests in test_core.py)."""
    settings_change(
        tenant=tenant, actor=None, key_rate=1000, key_burst=1000, tenant_rate=1000,
        tenant_burst=1000,
    )  # fmt: skip
    return make_key(tenant, scopes=scopes or list(Scope.values))


def post(client: Client, path: str, data: dict[str, str], **headers: str) -> HttpResponse:
    """A form POST as 46elks' examples send it (urlencoded body)."""
    return client.post(path, urlencode(data), content_type=FORM, **headers)  # type: ignore[return-value]  # the test client's response is an HttpResponse


def text(response: HttpResponse) -> str:
    return response.content.decode()

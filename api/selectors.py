"""Reads for the API pages: a tenant's keys, its request log, the sender for the examples."""

from __future__ import annotations

from accounts.models import Tenant
from api.models import ApiKey, ApiRequest
from core.pagination import KeysetPage, keyset_page
from messaging.senders.models import SenderName
from numbers.models import PhoneNumber


def keys_list(*, tenant: Tenant) -> list[ApiKey]:
    """Every key of the tenant, newest first, revoked ones too (with who made and revoked it)."""
    return list(
        ApiKey.objects.filter(tenant=tenant)
        .select_related("created_by", "revoked_by")
        .order_by("-created", "-id")
    )


def request_log_page(*, tenant: Tenant, cursor: str | None, size: int) -> KeysetPage:
    """The tenant's API requests, newest first on the api_request_log index; one query."""
    qs = ApiRequest.objects.filter(tenant=tenant).select_related("key")
    return keyset_page(qs, cursor=cursor, size=size)


def example_sender(*, tenant: Tenant) -> str | None:
    """What the curl example sends from: the first active SMS number, else an approved name."""
    number = (
        PhoneNumber.objects.filter(tenant=tenant, status=PhoneNumber.Status.ACTIVE, has_sms=True)
        .exclude(number="")
        .order_by("created", "pk")
        .values_list("number", flat=True)
        .first()
    )
    if number:
        return number
    return (
        SenderName.objects.filter(tenant=tenant, status=SenderName.Status.APPROVED)
        .order_by("name")
        .values_list("name", flat=True)
        .first()
    )

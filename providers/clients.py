"""Django-side factories for provider clients: where credentials and timeouts come from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from providers.elks.client import ElksClient

if TYPE_CHECKING:
    from accounts.models import Tenant
    from providers.infobip import InfobipClient


def elks_master(*, timeout: float | None = None) -> ElksClient:
    """The reseller's master account (manages subaccounts, reads the balance)."""
    return ElksClient(
        base_url=settings.ELKS_API_URL,
        username=settings.ELKS_USERNAME,
        password=settings.ELKS_PASSWORD,
        timeout=timeout or settings.ELKS_TIMEOUT,
    )


def elks_for_tenant(tenant: Tenant, *, timeout: float | None = None) -> ElksClient:
    """A tenant's own subaccount: it sees only that tenant's numbers, messages and calls."""
    if not tenant.elks_subaccount_id:
        raise ValueError(f"Tenant {tenant.pk} has no 46elks subaccount")
    return ElksClient(
        base_url=settings.ELKS_API_URL,
        username=tenant.elks_subaccount_id,
        password=tenant.elks_secret,
        timeout=timeout or settings.ELKS_TIMEOUT,
    )


def infobip_configured() -> bool:
    return bool(settings.INFOBIP_BASE_URL and settings.INFOBIP_API_KEY)


def infobip(*, timeout: float | None = None) -> InfobipClient | None:
    """The reseller's Infobip account, or None when it is not configured."""
    if not infobip_configured():
        return None
    from providers.infobip import InfobipClient

    return InfobipClient(
        base_url=settings.INFOBIP_BASE_URL,
        api_key=settings.INFOBIP_API_KEY,
        timeout=timeout or settings.INFOBIP_TIMEOUT,
        numbers_prefix=settings.INFOBIP_NUMBERS_PREFIX,
    )

"""Reads for customer webhooks: the signing secret, a number's and an endpoint's delivery log."""

from __future__ import annotations

from django_scopes import scopes_disabled

from core.pagination import KeysetPage, keyset_page
from messaging.customer_webhooks.models import (
    CustomerWebhook,
    EventDelivery,
    WebhookDelivery,
    WebhookEndpoint,
)
from numbers.models import PhoneNumber


def webhook_for(*, tenant_id: int) -> CustomerWebhook | None:
    """Any tenant's secret, outside a scope: the sender runs for every tenant."""
    with scopes_disabled():
        return CustomerWebhook.objects.filter(tenant_id=tenant_id).first()


def delivery_log_page(*, number: PhoneNumber, cursor: str | None, size: int) -> KeysetPage:
    """A number's deliveries, newest first on the delivery_log index."""
    qs = WebhookDelivery.objects.filter(number=number).select_related("message")
    return keyset_page(qs, cursor=cursor, size=size)


def endpoint_log_page(
    *,
    endpoint: WebhookEndpoint,
    cursor: str | None,
    size: int,
    event: str = "",
    status: str = "",
) -> KeysetPage:
    """An endpoint's deliveries, newest first (event_delivery_log index), optionally of one
    event and one status."""
    qs = EventDelivery.objects.filter(endpoint=endpoint)
    if event:
        qs = qs.filter(event=event)
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, size=size)

"""Infobip numbers for staff: search, buy (guarded), assign, list, look up.

Infobip's purchase has no idempotency key. A purchase is claimed first by a PhoneNumber row
unique on (provider, numberKey), so a retried or double-submitted purchase cannot buy twice;
after a timeout the owned list is checked before anything else is tried.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant, User
from numbers.models import PhoneNumber, Provider
from numbers.services import number_event
from providers.clients import infobip
from providers.infobip import InfobipClient, InfobipError, InfobipNumber, NumberPage

log = logging.getLogger(__name__)


class InfobipProblem(Exception):
    """Fit for the page."""


def _client() -> InfobipClient:
    client = infobip()
    if client is None:
        raise InfobipProblem("Infobip is not configured (INFOBIP_BASE_URL, INFOBIP_API_KEY).")
    return client


def infobip_available(
    *, country: str, capabilities: list[str], number: str | None, page: int
) -> NumberPage:
    try:
        return _client().available(
            country=country, capabilities=capabilities or None, number=number, page=page, limit=10
        )
    except InfobipError as exc:
        raise InfobipProblem(f"Infobip: {exc}") from exc


def infobip_owned_page(*, page: int) -> NumberPage:
    try:
        return _client().owned(page=page, limit=50)
    except InfobipError as exc:
        raise InfobipProblem(f"Infobip: {exc}") from exc


def infobip_get(number_key: str) -> InfobipNumber:
    try:
        return _client().get(number_key)
    except InfobipError as exc:
        raise InfobipProblem(f"Infobip: {exc}") from exc


def _apply(number: PhoneNumber, item: InfobipNumber) -> None:
    number.number = f"+{item.number.lstrip('+')}"
    number.country = (item.country or number.country or "").lower()[:2]
    caps = {c.upper() for c in item.capabilities}
    number.has_sms, number.has_mms, number.has_voice = "SMS" in caps, "MMS" in caps, "VOICE" in caps
    if item.price and item.price.price_per_month is not None:
        # Infobip prices are decimals in the account currency; we keep 1/10000 integers.
        number.monthly_price = int(item.price.price_per_month * 10_000)
        number.currency = item.price.currency or number.currency


@scopes_disabled()
def infobip_purchase(
    *, number_key: str, tenant: Tenant | None, actor: User, number_digits: str = ""
) -> PhoneNumber:
    if not number_key:
        raise InfobipProblem("Choose a number to buy.")
    try:
        with transaction.atomic():
            number = PhoneNumber.objects.create(
                tenant=tenant,
                provider=Provider.INFOBIP,
                provider_id=number_key,
                number=f"+{number_digits}" if number_digits else "",
                country="",
                status=PhoneNumber.Status.PENDING,
            )
    except IntegrityError as exc:
        raise InfobipProblem(
            "That number was already bought, or a purchase of it is in progress."
        ) from exc
    client = _client()
    try:
        item = client.purchase(number_key=number_key)
    except InfobipError as exc:
        if not exc.maybe_accepted:
            number.delete()
            raise InfobipProblem(f"Infobip did not sell the number: {exc}") from exc
        item = _check_owned(client, number_digits)
        if item is None:
            number.last_error = "Infobip did not answer; the sync will find it if it was bought."
            number.save(update_fields=["last_error"])
            raise InfobipProblem(
                "Infobip did not answer in time and the number is not in the owned list yet. "
                "Do not buy again: the sync adopts it if the purchase went through."
            ) from exc
    _apply(number, item)
    number.status = PhoneNumber.Status.ACTIVE if tenant else PhoneNumber.Status.UNASSIGNED
    number.allocated_at = timezone.now()
    number.last_error = ""
    number.save()
    number_event(number=number, action="bought_at_infobip", actor=actor, number_key=number_key)
    return number


def _check_owned(client: InfobipClient, digits: str) -> InfobipNumber | None:
    if not digits:
        return None
    try:
        return client.find_owned(digits)
    except InfobipError:
        log.warning("Infobip owned-list check failed after a purchase timeout", exc_info=True)
        return None


@scopes_disabled()
def infobip_assign(*, number: PhoneNumber, tenant: Tenant, actor: User) -> None:
    number.tenant = tenant
    number.status = PhoneNumber.Status.ACTIVE
    number.currency = tenant.currency
    number.save(update_fields=["tenant", "status", "currency"])
    number_event(number=number, action="assigned", actor=actor, tenant=tenant.slug)

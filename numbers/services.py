"""Writes for numbers: rent, route, quarantine, restore, release, close a tenant.

Rules kept here: provider calls never run inside a transaction; a rental is claimed by a
row (unique request key) before 46elks is called, so a retried or double-submitted form
never rents twice; after a timeout the number is looked for at 46elks by the unguessable
token in its callback URLs instead of being rented again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from billing.services import SpendRefused, spend_release
from numbers.billing import (
    allocation_cost,
    catalogue_price,
    number_month_rate,
    rental_release,
    rental_reserve,
)
from numbers.hooks import callback_urls
from numbers.models import Category, NumberEvent, NumberPolicy, PhoneNumber, Provider
from providers.clients import elks_for_tenant, elks_master, infobip
from providers.elks.errors import ElksError, ElksNotFound
from providers.elks.types import Number as ElksNumber

log = logging.getLogger(__name__)

CAPABILITIES = ("sms", "mms", "voice")


class NumberError(Exception):
    """A refusal fit for the page (the provider said no, a rule forbids it...)."""


def number_event(
    *, number: PhoneNumber, action: str, actor: User | None = None, **detail: object
) -> None:
    NumberEvent.objects.create(
        tenant_id=number.tenant_id,
        number=number,
        action=action,
        actor=actor if actor and actor.is_authenticated else None,
        detail=detail,
    )


def apply_provider_number(number: PhoneNumber, remote: ElksNumber) -> None:
    number.provider_id = remote.id
    number.number = remote.number
    number.country = (remote.country or number.country).lower()
    if remote.category:
        number.category = remote.category
    caps = set(remote.capabilities)
    number.has_sms, number.has_mms, number.has_voice = (
        "sms" in caps,
        "mms" in caps,
        "voice" in caps,
    )
    number.expires = remote.expires


# --- renting -----------------------------------------------------------------------------------


def number_rent(
    *,
    tenant: Tenant,
    country: str,
    capabilities: list[str],
    category: str,
    request_key: uuid.UUID,
    actor: User,
) -> PhoneNumber:
    """Rent a number from 46elks under the tenant's own subaccount.

    Idempotent on `request_key`: a second call with the same key returns the first rental
    (or re-checks a rental whose answer was lost) and never allocates again. The first
    month's price is reserved before 46elks is asked (numbers.billing): refused, nothing is
    sent; rented, the month is rated and the reservation released.
    """
    if tenant.status != Tenant.Status.ACTIVE:
        raise NumberError(f"{tenant.name} is {tenant.get_status_display().lower()}: no rentals.")
    if category == Category.FIXED and "sms" in capabilities:
        raise NumberError("Fixed-line numbers cannot receive SMS; untick SMS or choose mobile.")
    price = catalogue_price(tenant=tenant, country=country, category=category)
    if price is None:
        raise NumberError(
            f"{category.capitalize()} numbers in {country.upper()} are not offered yet; "
            "ask your provider to add a price."
        )
    existing = PhoneNumber.objects.filter(request_key=request_key).first()
    if existing is not None:
        return _resume_rental(existing)
    try:
        reserved = rental_reserve(
            tenant=tenant, country=country, category=category, cost=price.monthly_price
        )
    except SpendRefused as exc:
        raise NumberError(str(exc)) from exc
    try:
        with transaction.atomic():
            number = PhoneNumber.objects.create(
                reserved=reserved,
                tenant=tenant,
                provider=Provider.ELKS,
                country=country.lower(),
                category=category,
                has_sms="sms" in capabilities,
                has_mms="mms" in capabilities,
                has_voice="voice" in capabilities,
                status=PhoneNumber.Status.PENDING,
                monthly_price=price.monthly_price,
                currency=price.currency,
                request_key=request_key,
            )
    except IntegrityError:
        # A concurrent submission of the same form won the claim.
        spend_release(tenant_id=tenant.pk, amount=reserved)
        return _resume_rental(PhoneNumber.objects.get(request_key=request_key))

    try:
        remote = elks_for_tenant(tenant).number_allocate(
            country=country,
            capabilities=capabilities,
            category=category,
            sms_replies=False if "sms" in capabilities else None,
            **callback_urls(number),
        )
    except ElksError as exc:
        if exc.maybe_accepted:
            number.last_error = "46elks did not answer in time; checking whether it was rented."
            number.save(update_fields=["last_error"])
            return _resume_rental(number)
        rental_release(number=number)
        number.delete()
        raise NumberError(f"46elks could not rent a number: {exc}") from exc
    _activate(number, remote, actor=actor)
    return number


def _activate(number: PhoneNumber, remote: ElksNumber, *, actor: User | None) -> None:
    """Active, and its first month rated (releasing the reservation), in one transaction."""
    apply_provider_number(number, remote)
    number.status = PhoneNumber.Status.ACTIVE
    number.allocated_at = timezone.now()
    number.last_error = ""
    cost = allocation_cost(remote)
    if cost is not None:
        number.monthly_price = cost
    with transaction.atomic():
        number.save()
        _rate_first_month(number)
        _activated_event(number, remote, actor=actor)


def _rate_first_month(number: PhoneNumber) -> None:
    if number.tenant_id is not None:
        number_month_rate(number=number)


def _activated_event(number: PhoneNumber, remote: ElksNumber, *, actor: User | None) -> None:
    number_event(
        number=number,
        action="rented",
        actor=actor,
        provider_id=remote.id,
        monthly_price=number.monthly_price,
        currency=number.currency,
    )


def _find_at_provider(number: PhoneNumber) -> ElksNumber | None:
    """A rental whose answer was lost is recognised by the token in its callback URLs."""
    token = number.hook_token
    for remote in elks_for_tenant(number.tenant).numbers():
        if any(token in (url or "") for url in (remote.sms_url, remote.voice_start)):
            return remote
    return None


def _resume_rental(number: PhoneNumber) -> PhoneNumber:
    if number.status != PhoneNumber.Status.PENDING:
        return number
    try:
        remote = _find_at_provider(number)
    except ElksError as exc:
        raise NumberError(
            f"46elks is not answering ({exc}). The rental is being checked; do not rent again."
        ) from exc
    if remote is not None:
        _activate(number, remote, actor=None)
        return number
    raise NumberError(
        "46elks did not confirm the rental in time. We keep checking, and the number "
        "appears in your list if it was rented. Do not rent again."
    )


# --- routing -------------------------------------------------------------------------------


def number_route(
    *, number: PhoneNumber, actor: User | None, api_key: str = "", **routing: object
) -> None:
    """Save routing here and make sure 46elks sends every event to this dashboard.

    `actor` is None for a change through the API; its key id goes in the history instead."""
    if number.status != PhoneNumber.Status.ACTIVE:
        raise NumberError("Only an active number can be routed.")
    for field, value in routing.items():
        setattr(number, field, value)
    _push_routing(number)
    number.provider_drift = None
    number.save()
    via = {"api_key": api_key} if api_key else {}
    number_event(
        number=number, action="routing_changed", actor=actor, **_routing_summary(number), **via
    )


def _routing_summary(number: PhoneNumber) -> dict[str, object]:
    return {
        "sms_forward_to": number.sms_forward_to,
        "sms_webhook": bool(number.sms_webhook_url),
        "autoreply": number.sms_autoreply_enabled,
        "forwards": [f["to"] for f in number.voice_forwards],
        "voicemail": number.voicemail_enabled,
        "record": number.record_calls,
    }


def expected_provider_routing(number: PhoneNumber) -> dict[str, object]:
    expected: dict[str, object] = dict(callback_urls(number))
    if number.has_sms:
        expected["sms_replies"] = number.sms_autoreply_enabled
    return expected


def _push_routing(number: PhoneNumber) -> None:
    if number.provider != Provider.ELKS or not number.provider_id:
        return
    try:
        elks_for_tenant(number.tenant).number_update(
            number.provider_id, name=number.label or None, **expected_provider_routing(number)
        )
    except ElksError as exc:
        raise NumberError(f"46elks refused the routing change: {exc}") from exc


def number_reapply_routing(*, number: PhoneNumber, actor: User) -> None:
    """Overwrite what drifted at the provider with ours."""
    _push_routing(number)
    drift, number.provider_drift = number.provider_drift, None
    number.save(update_fields=["provider_drift"])
    number_event(number=number, action="routing_reapplied", actor=actor, was=drift or {})


def number_rotate_token(*, number: PhoneNumber, actor: User, keep_old: bool = True) -> None:
    """New callback token, registered at 46elks. The old one keeps working for an overlap so
    46elks' retries land, unless ``keep_old=False`` (it leaked: refuse it from now on)."""
    old = number.hook_token
    number.previous_hook_token = old if keep_old else None
    number.previous_hook_token_until = (
        timezone.now() + timedelta(seconds=settings.HOOK_TOKEN_OVERLAP_SECONDS)
        if keep_old
        else None
    )
    number.hook_token = PhoneNumber._meta.get_field("hook_token").default()
    _push_routing(number)
    number.save(update_fields=["hook_token", "previous_hook_token", "previous_hook_token_until"])
    number_event(number=number, action="token_rotated", actor=actor, old_kept=keep_old)


def tenant_callback_numbers(*, tenant: Tenant) -> list[PhoneNumber]:
    """The tenant's numbers whose callback URLs are registered at 46elks."""
    with scopes_disabled():
        return list(
            PhoneNumber.objects.filter(
                tenant=tenant,
                provider=Provider.ELKS,
                status__in=[PhoneNumber.Status.ACTIVE, PhoneNumber.Status.QUARANTINED],
            )
            .select_related("tenant")
            .order_by("number")
        )


def tenant_callback_tokens_rotate(
    *, tenant: Tenant, actor: User, keep_old: bool, request: object | None = None
) -> tuple[list[str], dict[str, str]]:
    """Rotate every callback token of a tenant (a token leaked, or a member with access to
    one left) and re-register the numbers' URLs at 46elks. A number the provider refuses is
    reported and keeps its old token; the rest are rotated. Audited either way."""
    rotated: list[str] = []
    failed: dict[str, str] = {}
    for number in tenant_callback_numbers(tenant=tenant):
        try:
            with scope(tenant=tenant.pk):
                number_rotate_token(number=number, actor=actor, keep_old=keep_old)
        except NumberError as exc:
            failed[number.number] = str(exc)
        else:
            rotated.append(number.number)
    audit_record(
        action=AuditEvent.Action.CALLBACK_TOKENS_ROTATED,
        actor=actor,
        tenant=tenant,
        request=request,
        rotated=rotated,
        failed=failed,
        old_kept=keep_old,
    )
    return rotated, failed


# --- release -------------------------------------------------------------------------------


def number_release(*, number: PhoneNumber, actor: User) -> None:
    """Quarantine: routing stops now; the number can be restored until the period ends."""
    if number.status != PhoneNumber.Status.ACTIVE:
        raise NumberError("Only an active number can be released.")
    days = NumberPolicy.current().quarantine_days
    now = timezone.now()
    number.status = PhoneNumber.Status.QUARANTINED
    number.quarantined_at = now
    number.quarantine_until = now + timedelta(days=days)
    number.save(update_fields=["status", "quarantined_at", "quarantine_until"])
    number_event(number=number, action="quarantined", actor=actor, days=days)


def number_restore(*, number: PhoneNumber, actor: User) -> None:
    updated = PhoneNumber.objects.filter(
        pk=number.pk, status=PhoneNumber.Status.QUARANTINED
    ).update(status=PhoneNumber.Status.ACTIVE, quarantined_at=None, quarantine_until=None)
    if not updated:
        raise NumberError("This number is no longer in quarantine and cannot be restored.")
    number.refresh_from_db()
    number_event(number=number, action="restored", actor=actor)


def number_release_now(*, number: PhoneNumber, actor: User | None) -> None:
    """Deactivate at the provider now (staff, closing a tenant, or quarantine ended).

    Claimed with a conditional update so two runs cannot both call the provider; a
    transient provider failure puts the number back in quarantine for the next run.
    """
    claimable = [PhoneNumber.Status.ACTIVE, PhoneNumber.Status.QUARANTINED]
    previous = number.status
    claimed = PhoneNumber.objects.filter(pk=number.pk, status__in=claimable).update(
        status=PhoneNumber.Status.RELEASING
    )
    if not claimed:
        raise NumberError("This number is already released or being released.")
    try:
        _deactivate_at_provider(number)
    except (ElksError, NumberError) as exc:
        PhoneNumber.objects.filter(pk=number.pk).update(status=previous, last_error=str(exc))
        number.refresh_from_db()
        raise NumberError(f"The provider did not release the number: {exc}") from exc
    now = timezone.now()
    PhoneNumber.objects.filter(pk=number.pk).update(
        status=PhoneNumber.Status.RELEASED, released_at=now, last_error=""
    )
    number.refresh_from_db()
    number_event(number=number, action="released", actor=actor)


def _deactivate_at_provider(number: PhoneNumber) -> None:
    if not number.provider_id:
        return
    if number.provider == Provider.ELKS:
        try:
            elks_for_tenant(number.tenant).number_deactivate(number.provider_id)
        except ElksNotFound:
            log.info("Number %s was already gone at 46elks", number.provider_id)
    else:
        client = infobip()
        if client is None:
            raise NumberError("Infobip is not configured.")
        client.cancel(number.provider_id, missing_ok=True)


@scopes_disabled()
def quarantine_expire(*, now: datetime | None = None) -> int:
    """Beat: deactivate numbers whose quarantine has ended. Returns how many were released."""
    due = PhoneNumber.objects.filter(
        status=PhoneNumber.Status.QUARANTINED, quarantine_until__lte=now or timezone.now()
    ).select_related("tenant")
    released = 0
    for number in due:
        try:
            number_release_now(number=number, actor=None)
            released += 1
        except NumberError as exc:
            log.warning("Quarantine end of %s failed: %s", number.pk, exc)
    return released


# --- tenants -----------------------------------------------------------------------------------


def tenant_close(*, tenant: Tenant, actor: User, request: object | None = None) -> None:
    """Release every number, then deactivate the subaccount (permanent at 46elks).

    Stops at the first number the provider will not release, leaving the tenant as it was
    so staff can retry; history stays readable.
    """
    with scopes_disabled():
        numbers = list(
            PhoneNumber.objects.filter(
                tenant=tenant,
                status__in=[PhoneNumber.Status.ACTIVE, PhoneNumber.Status.QUARANTINED],
            ).select_related("tenant")
        )
        for number in numbers:
            if number.status == PhoneNumber.Status.ACTIVE:
                number_release(number=number, actor=actor)
            number_release_now(number=number, actor=actor)
    if tenant.elks_subaccount_id:
        try:
            elks_master().subaccount_update(tenant.elks_subaccount_id, active=False)
        except ElksError as exc:
            raise NumberError(f"46elks refused to deactivate the subaccount: {exc}") from exc
    tenant.status = Tenant.Status.CLOSED
    tenant.save(update_fields=["status", "updated"])
    audit_record(
        action=AuditEvent.Action.TENANT_CLOSED,
        actor=actor,
        tenant=tenant,
        request=request,
        numbers_released=len(numbers),
    )

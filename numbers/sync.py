"""Reconcile numbers with the providers. Never deletes history, never changes a provider."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from numbers.billing import number_month_rate, rental_release
from numbers.models import PhoneNumber, Provider
from numbers.services import apply_provider_number, expected_provider_routing, number_event
from providers.clients import elks_for_tenant, infobip
from providers.elks.errors import ElksError
from providers.elks.types import Number as ElksNumber

if TYPE_CHECKING:
    from core.sync import SyncResult

log = logging.getLogger(__name__)
LIVE = [PhoneNumber.Status.ACTIVE, PhoneNumber.Status.QUARANTINED]


@scopes_disabled()
def sync_numbers(result: SyncResult) -> None:
    counts = {"imported": 0, "released": 0, "drift": 0, "adopted": 0}
    tenants = Tenant.objects.filter(
        status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]
    ).exclude(elks_subaccount_id=None)
    for tenant in tenants:
        try:
            remote = list(elks_for_tenant(tenant).numbers())
        except ElksError as exc:
            log.warning("Numbers sync for tenant %s failed: %s", tenant.pk, exc)
            result.notes.append(f"Numbers of {tenant.name} not synced: {exc}.")
            continue
        _reconcile_elks(tenant, remote, counts)
    _sync_infobip(counts)
    result.notes.append(
        "Numbers: {imported} imported, {adopted} pending rentals found, {released} gone at the "
        "provider, {drift} with drifted routing.".format(**counts)
    )


def _reconcile_elks(tenant: Tenant, remote: list[ElksNumber], counts: dict[str, int]) -> None:
    ours = {
        n.provider_id: n
        for n in PhoneNumber.objects.filter(tenant=tenant, provider=Provider.ELKS).exclude(
            provider_id=None
        )
    }
    pending = list(PhoneNumber.objects.filter(tenant=tenant, status=PhoneNumber.Status.PENDING))
    seen: set[str] = set()
    for item in remote:
        seen.add(item.id)
        number = ours.get(item.id)
        if number is None:
            number = _adopt_pending(pending, item)
            if number is not None:
                counts["adopted"] += 1
                continue
            if item.active:
                _import(tenant, item)
                counts["imported"] += 1
            continue
        if not item.active and number.status in LIVE:
            _mark_released(number, reason="inactive at 46elks")
            counts["released"] += 1
        elif number.status == PhoneNumber.Status.ACTIVE and _record_drift(number, item):
            counts["drift"] += 1
    for provider_id, number in ours.items():
        if provider_id not in seen and number.status in LIVE:
            _mark_released(number, reason="no longer listed at 46elks")
            counts["released"] += 1
    _give_up_on_stale_pending(pending)


def _adopt_pending(pending: list[PhoneNumber], item: ElksNumber) -> PhoneNumber | None:
    for number in pending:
        if any(number.hook_token in (u or "") for u in (item.sms_url, item.voice_start)):
            apply_provider_number(number, item)
            number.status = PhoneNumber.Status.ACTIVE
            number.allocated_at = timezone.now()
            number.last_error = ""
            with transaction.atomic():
                number.save()
                number_month_rate(number=number)  # its first month, releasing the reservation
                number_event(number=number, action="rented", source="sync")
            pending.remove(number)
            return number
    return None


def _give_up_on_stale_pending(pending: list[PhoneNumber]) -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.NUMBER_PENDING_GIVE_UP_SECONDS)
    for number in pending:
        if number.created < cutoff:
            number.status = PhoneNumber.Status.RELEASED
            number.released_at = timezone.now()
            number.last_error = "46elks never confirmed this rental; it was not rented."
            number.save(update_fields=["status", "released_at", "last_error"])
            rental_release(number=number)
            number_event(number=number, action="rental_abandoned")


def _import(tenant: Tenant, item: ElksNumber) -> None:
    number = PhoneNumber(tenant=tenant, provider=Provider.ELKS, status=PhoneNumber.Status.ACTIVE)
    apply_provider_number(number, item)
    number.allocated_at = timezone.now()
    number.currency = tenant.currency
    number.provider_drift = _drift(number, item) or None
    number.save()
    number_event(number=number, action="imported", source="46elks")


def _mark_released(number: PhoneNumber, *, reason: str) -> None:
    number.status = PhoneNumber.Status.RELEASED
    number.released_at = timezone.now()
    number.save(update_fields=["status", "released_at"])
    number_event(number=number, action="released_at_provider", reason=reason)


def _drift(number: PhoneNumber, item: ElksNumber) -> dict[str, object]:
    expected = expected_provider_routing(number)
    actual = {
        "sms_url": item.sms_url,
        "mms_url": item.mms_url,
        "voice_start": item.voice_start,
        "sms_replies": item.sms_replies,
    }
    diff: dict[str, object] = {}
    for key, ours in expected.items():
        theirs = actual[key]
        if key == "sms_replies" and theirs is None:
            continue  # 46elks may leave the default out of its answer
        if theirs != ours:
            diff[key] = {"ours": ours, "theirs": theirs}
    return diff


def _record_drift(number: PhoneNumber, item: ElksNumber) -> bool:
    drift = _drift(number, item) or None
    if drift != number.provider_drift:
        number.provider_drift = drift
        number.save(update_fields=["provider_drift"])
    return drift is not None


def _sync_infobip(counts: dict[str, int]) -> None:
    client = infobip()
    if client is None:
        return
    ours = {n.provider_id: n for n in PhoneNumber.objects.filter(provider=Provider.INFOBIP)}
    seen: set[str] = set()
    for item in client.iter_owned():
        seen.add(item.number_key)
        if item.number_key in ours:
            continue
        number = PhoneNumber.objects.create(
            tenant=None,
            provider=Provider.INFOBIP,
            provider_id=item.number_key,
            number=f"+{item.number}",
            country=(item.country or "").lower()[:2],
            has_sms="SMS" in item.capabilities,
            has_mms="MMS" in item.capabilities,
            has_voice="VOICE" in item.capabilities,
            status=PhoneNumber.Status.UNASSIGNED,
        )
        number_event(number=number, action="imported", source="infobip")
        counts["imported"] += 1
    for key, number in ours.items():
        if key not in seen and number.status in [*LIVE, PhoneNumber.Status.UNASSIGNED]:
            _mark_released(number, reason="no longer owned at Infobip")
            counts["released"] += 1

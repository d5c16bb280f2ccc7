"""Pull each subaccount's calls and recordings from 46elks, incrementally, by 46elks id."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from calls.billing import call_rate, call_reservations_expire
from calls.models import Call, CallSettings, Recording
from calls.services import settings_for
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError
from providers.elks.types import Call as ElksCall

log = logging.getLogger(__name__)
SYNC_OVERLAP = timedelta(minutes=5)


def calls_sync_all() -> str:
    with scopes_disabled():
        tenants = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(elks_subaccount_id=None)
        )
    calls = recordings = 0
    for tenant in tenants:
        with scope(tenant=tenant.pk):
            try:
                c, r = calls_sync(tenant=tenant)
            except ElksError as exc:
                log.warning("Call sync of tenant %s failed: %s", tenant.pk, exc)
                continue
        calls, recordings = calls + c, recordings + r
    return f"Calls: {calls} new or updated, {recordings} recording(s) found."


def calls_sync(*, tenant: Tenant) -> tuple[int, int]:
    prefs = settings_for(tenant)
    client = elks_for_tenant(tenant)
    changed = 0
    newest = prefs.calls_synced_until
    since = prefs.calls_synced_until
    for item in client.calls(end=(since - SYNC_OVERLAP) if since else None):
        changed += _upsert_call(tenant, item)
        if item.created and (newest is None or item.created > newest):
            newest = item.created
    found = 0
    newest_rec = prefs.recordings_synced_until
    since_rec = prefs.recordings_synced_until
    for rec in client.recordings(end=(since_rec - SYNC_OVERLAP) if since_rec else None):
        found += _upsert_recording(tenant, rec)
        if rec.created and (newest_rec is None or rec.created > newest_rec):
            newest_rec = rec.created
    CallSettings.objects.filter(pk=prefs.pk).update(
        calls_synced_until=newest, recordings_synced_until=newest_rec
    )
    call_reservations_expire(tenant_id=tenant.pk)
    return changed, found


def _upsert_call(tenant: Tenant, item: ElksCall) -> int:
    if not item.id:
        return 0
    incoming = item.direction == "incoming"
    ours, other = (item.to, item.from_) if incoming else (item.from_, item.to)
    fields = {
        "state": item.state if item.state in {c.value for c in Call.State} else Call.State.FAILED,
        "start": item.start,
        "duration": item.duration,
        "cost": item.cost,
        "legs": list(item.legs),
        "actions": list(item.actions),
    }
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(elks_id=item.id).first()
        if call is not None:
            dirty = {
                k: v for k, v in fields.items() if v not in (None, [], ()) and getattr(call, k) != v
            }
            if dirty:
                Call.objects.filter(pk=call.pk).update(**dirty)
                for name, value in dirty.items():
                    setattr(call, name, value)
            if dirty:
                # A new cost or duration: rated, or corrected if it was. A row unchanged since
                # before rating existed is left alone (not billed now for an old month).
                call_rate(call=call)
            return int(bool(dirty))
        call = Call.objects.create(
            tenant=tenant,
            elks_id=item.id,
            direction=Call.Direction.IN if incoming else Call.Direction.OUT,
            source=Call.Source.HISTORY,
            number=PhoneNumber.objects.filter(tenant=tenant, number=ours).first(),
            ours=(ours or "")[:20],
            other=(other or "")[:20],
            created=item.created,
            **{k: v for k, v in fields.items() if v is not None},
        )
        call_rate(call=call)
    return 1


def _upsert_recording(tenant: Tenant, rec: object) -> int:
    """A recording 46elks has that we do not: record it so the download sweep fetches it."""
    elks_id = getattr(rec, "id", "")
    if not elks_id or Recording.objects.filter(elks_id=elks_id).exists():
        return 0
    callid = elks_id.rsplit("-r", 1)[0]
    Recording.objects.create(
        tenant=tenant,
        call=Call.objects.filter(elks_id=callid).first(),
        callid=callid,
        elks_id=elks_id,
        duration=getattr(rec, "duration", 0) or 0,
        created=getattr(rec, "created", None) or Recording._meta.get_field("created").default(),
    )
    return 1

"""Provider sync: run the steps of settings.PROVIDER_SYNC_STEPS (tenants' subaccounts first)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from django_scopes import scopes_disabled

from accounts.models import OrphanSubaccount, Tenant
from billing.models import UsageSnapshot
from billing.selectors import month_start
from billing.services import usage_snapshot_record
from console.tenants import orphan_record
from core.locks import skip_if_running
from core.sync import SyncResult
from providers.clients import elks_master

log = logging.getLogger(__name__)


def provider_sync() -> SyncResult:
    """Run every step of settings.PROVIDER_SYNC_STEPS. Overlapping runs are skipped."""
    with skip_if_running("provider-sync", ttl=settings.PROVIDER_SYNC_LOCK_SECONDS) as held:
        if not held:
            log.info("provider_sync skipped: already running")
            return SyncResult(skipped=True)
        result = SyncResult()
        for step in settings.PROVIDER_SYNC_STEPS:
            import_string(step)(result)
        return result


@scopes_disabled()
def sync_subaccounts(result: SyncResult) -> None:
    """Reconcile tenants with `GET /a1/subaccounts` (every page)."""
    tenants = {
        t.elks_subaccount_id: t
        for t in Tenant.objects.exclude(elks_subaccount_id=None).exclude(
            status=Tenant.Status.PROVISIONING
        )
    }
    known_orphans = set(OrphanSubaccount.objects.values_list("subaccount_id", flat=True))
    latest = dict(
        UsageSnapshot.objects.values("tenant_id")
        .annotate(last=Max("taken_at"))
        .values_list("tenant_id", "last")
    )
    now = timezone.now()
    for sub in elks_master().subaccounts():
        tenant = tenants.get(sub.id)
        if tenant is None:
            if sub.active and sub.id not in known_orphans:
                orphan_record(
                    subaccount_id=sub.id,
                    name=sub.name or "",
                    reason="Found at 46elks by the sync; no tenant uses it.",
                )
            result.orphans.append(sub.id)
            continue
        changes: dict[str, object] = {
            "usage": sub.balanceused,
            "usage_synced_at": now,
            "updated": now,
        }
        # While suspended, 46elks holds 0 on purpose; the bought limit stays here.
        if tenant.status == Tenant.Status.ACTIVE and sub.usagelimit is not None:
            changes["usage_limit"] = sub.usagelimit
        # Conditional on the figure we read: the usage refresh and the full sync may overlap,
        # and a stale reader must not write an older figure over a newer one.
        moved = Tenant.objects.filter(pk=tenant.pk, usage=tenant.usage).update(**changes)
        if not moved:
            continue
        if _snapshot_due(tenant.pk, now, latest.get(tenant.pk)):
            usage_snapshot_record(tenant=tenant, balanceused=sub.balanceused, taken_at=now)
        result.updated += 1


def _snapshot_due(tenant_id: int, now: datetime, last: datetime | None) -> bool:
    """One snapshot per USAGE_SNAPSHOT_SECONDS (and the first of a month): a period's spend
    is the difference of two snapshots, so a row a minute would add nothing but rows."""
    if last is None or month_start(last) != month_start(now):
        return True
    return (now - last).total_seconds() >= settings.USAGE_SNAPSHOT_SECONDS


def usage_refresh() -> SyncResult:
    """Only the subaccounts' spend and limits: cheap, so beat runs it every minute."""
    with skip_if_running("usage-refresh", ttl=settings.USAGE_REFRESH_SECONDS * 2) as held:
        if not held:
            return SyncResult(skipped=True)
        result = SyncResult()
        sync_subaccounts(result)
        return result

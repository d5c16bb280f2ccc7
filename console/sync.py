"""Provider sync: run the steps of settings.PROVIDER_SYNC_STEPS (tenants' subaccounts first)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.module_loading import import_string
from django_scopes import scopes_disabled

from accounts.models import OrphanSubaccount, Tenant
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
        fields = ["usage", "usage_synced_at", "updated"]
        spent_since = max(0, sub.balanceused - tenant.usage)
        if spent_since:
            # What 46elks now counts no longer needs reserving (campaign sends).
            Tenant.objects.filter(pk=tenant.pk).update(
                reserved=Greatest(F("reserved") - spent_since, Value(0))
            )
        tenant.usage = sub.balanceused
        tenant.usage_synced_at = now
        # While suspended, 46elks holds 0 on purpose; the bought limit stays here.
        if tenant.status == Tenant.Status.ACTIVE and sub.usagelimit is not None:
            tenant.usage_limit = sub.usagelimit
            fields.append("usage_limit")
        tenant.save(update_fields=fields)
        usage_snapshot_record(tenant=tenant, balanceused=sub.balanceused, taken_at=now)
        result.updated += 1

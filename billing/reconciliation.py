"""Reconciliation: the provider cost we rated for a tenant's month against what 46elks counted.

46elks' own figure is the movement of the subaccount's all-time `balanceused` over the month:
its value now (read from `GET /a1/subaccounts` by this check) minus the last usage snapshot
taken before the month began in the tenant's billing time zone. Our figure is the sum of
`provider_cost` over the month's ledger entries (corrections included). A daily beat task
writes one `Reconciliation` row per tenant; when the two differ by more than
`BILLING_RECONCILE_TOLERANCE_BP` (100 = 1%) of the larger, staff get a `StaffAlert` (banner
and email, once per tenant per day).

A tenant with no snapshot before the month is checked only if it was created in the month
(it started from 0); otherwise there is no baseline and it is skipped, never guessed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.alerts.services import staff_alert_record
from billing.ledger.models import UsageEntry
from billing.models import Reconciliation, StaffAlert, UsageSnapshot
from billing.periods import current_period, next_period, period_bounds
from billing.services import account_for
from providers.clients import elks_master

log = logging.getLogger(__name__)


def diverges(rated: int, movement: int) -> bool:
    """More than the tolerance apart, relative to the larger figure (0 and 0 agree)."""
    larger = max(abs(rated), abs(movement))
    return abs(rated - movement) * 10_000 > larger * settings.BILLING_RECONCILE_TOLERANCE_BP


def rated_cost(*, tenant_id: int, period: date) -> int:
    total = (
        UsageEntry.objects.filter(tenant_id=tenant_id, day__gte=period, day__lt=next_period(period))
        .aggregate(total=Sum("provider_cost"))
        .get("total")
    )
    return int(total or 0)


def baseline(*, tenant: Tenant, period: date, time_zone: str) -> int | None:
    start, _ = period_bounds(period, time_zone)
    before = (
        UsageSnapshot.objects.filter(tenant_id=tenant.pk, taken_at__lt=start)
        .order_by("-taken_at")
        .first()
    )
    if before is not None:
        return before.balanceused
    return 0 if tenant.created >= start else None


@scopes_disabled()
def reconcile_tenant(
    *, tenant: Tenant, balanceused: int, at: datetime | None = None
) -> Reconciliation | None:
    """Check the tenant's current month against 46elks' `balanceused` read now."""
    account = account_for(tenant)
    period = current_period(account.time_zone, at)
    base = baseline(tenant=tenant, period=period, time_zone=account.time_zone)
    if base is None:
        log.info("Reconciliation of tenant %s skipped: no snapshot before %s", tenant.pk, period)
        return None
    rated = rated_cost(tenant_id=tenant.pk, period=period)
    movement = balanceused - base
    row = Reconciliation.objects.create(
        tenant=tenant,
        period=period,
        rated_cost=rated,
        provider_movement=movement,
        diverged=diverges(rated, movement),
        checked_at=at or timezone.now(),
    )
    if row.diverged:
        staff_alert_record(
            kind=StaffAlert.Kind.RECONCILIATION,
            tenant=tenant,
            detail={
                "period": period.isoformat(),
                "rated_cost": rated,
                "provider_movement": movement,
            },
            text=(
                f"{tenant.name}: the provider cost rated for {period:%B %Y} "
                f"({rated / 10_000:.2f}) differs from 46elks' movement ({movement / 10_000:.2f}) "
                "by more than the tolerance."
            ),
        )
    return row


def reconcile_all(*, at: datetime | None = None) -> list[Reconciliation]:
    """Beat, daily: one `GET /a1/subaccounts` listing, one row per tenant it can check."""
    with scopes_disabled():
        tenants = {
            t.elks_subaccount_id: t
            for t in Tenant.objects.exclude(elks_subaccount_id=None).exclude(
                status=Tenant.Status.PROVISIONING
            )
        }
    rows = []
    for sub in elks_master().subaccounts():
        tenant = tenants.get(sub.id)
        if tenant is None:
            continue
        row = reconcile_tenant(tenant=tenant, balanceused=sub.balanceused, at=at)
        if row is not None:
            rows.append(row)
    return rows

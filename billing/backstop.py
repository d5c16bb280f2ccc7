"""The 46elks backstop: the subaccount's `usagelimit`, kept above the local limit.

The local limit (`BillingAccount.monthly_limit`, or the prepaid balance) is what stops a
tenant: every send reserves against it first. 46elks' `usagelimit` is only a backstop for a bug
or a send that bypassed the reservation, and it caps a different figure: the subaccount's
*all-time* `balanceused`, in provider cost. So it cannot simply be the monthly limit; it is

    postpaid: usagelimit = B + ceil(monthly_limit * R)
    prepaid:  usagelimit = B + ceil((balance + spent this period) * R)

where B is 46elks' `balanceused` at the start of the tenant's current period (the last usage
snapshot taken before the first of the month in the tenant's billing time zone; with no
snapshot before it, the first one in the period; with none at all, the last synced figure) and
R is `settings.BILLING_BACKSTOP_RATIO` (1.2 by default). For prepaid, `balance + spent this
period` is the money the tenant had for this period, so the figure does not drift down as the
balance is spent; a top-up raises it.

When it moves:
- at each period start: `backstop_raise` (beat, hourly) recomputes every active tenant's figure
  and writes the ones that differ from what 46elks holds (`Tenant.usage_limit`, which the sync
  reads back), so a new month's B lifts the cap within the hour after midnight in each zone;
- on every limit, mode or top-up change (`backstop_apply`, called by the staff services).
A suspended tenant keeps 0 at 46elks; reactivation applies the rule again.

Since provider cost is normally below the tenant's price, R > 1 leaves the local limit to act
first; the backstop only bites when the ledger and 46elks disagree.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.models import UsageSnapshot
from billing.periods import current_period, period_bounds
from billing.services import account_for
from providers.clients import elks_master
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)


class BackstopError(Exception):
    """46elks refused the new usagelimit: a message for staff."""


def scaled(amount: int) -> int:
    """`amount * BILLING_BACKSTOP_RATIO`, rounded up (never below the local figure * R)."""
    ratio = Decimal(str(settings.BILLING_BACKSTOP_RATIO))
    return int((Decimal(amount) * ratio).to_integral_value(rounding=ROUND_CEILING))


@scopes_disabled()
def period_baseline(*, tenant: Tenant, at: datetime | None = None) -> int:
    """46elks' `balanceused` at the start of the tenant's current period (see the module)."""
    account = account_for(tenant)
    start, _ = period_bounds(current_period(account.time_zone, at), account.time_zone)
    snapshots = UsageSnapshot.objects.filter(tenant_id=tenant.pk)
    before = snapshots.filter(taken_at__lt=start).order_by("-taken_at").first()
    if before is None:
        before = snapshots.filter(taken_at__gte=start).order_by("taken_at").first()
    return before.balanceused if before is not None else tenant.usage


def backstop_limit(*, tenant: Tenant, at: datetime | None = None) -> int:
    """The usagelimit 46elks should hold for `tenant` now."""
    account = account_for(tenant)
    period = current_period(account.time_zone, at)
    if account.is_prepaid:
        spent = account.period_spent if account.period_start >= period else 0
        local = max(0, account.balance + spent)
    else:
        local = account.monthly_limit
    return period_baseline(tenant=tenant, at=at) + scaled(local)


def backstop_apply(*, tenant: Tenant, at: datetime | None = None, force: bool = False) -> int:
    """Write the backstop to 46elks if it moved (or `force`), then record it on the tenant.

    Call it outside a transaction (a provider call). Suspended and unprovisioned tenants are
    left alone (suspension holds 0 at 46elks on purpose). Returns the figure 46elks holds.
    """
    tenant.refresh_from_db(fields=["status", "usage", "usage_limit", "elks_subaccount_id"])
    if tenant.status != Tenant.Status.ACTIVE or not tenant.elks_subaccount_id:
        return tenant.usage_limit
    wanted = backstop_limit(tenant=tenant, at=at)
    if wanted == tenant.usage_limit and not force:
        return wanted
    try:
        elks_master().subaccount_update(tenant.elks_subaccount_id, usagelimit=wanted)
    except ElksError as exc:
        raise BackstopError(f"46elks refused the new usage limit: {exc}") from exc
    Tenant.objects.filter(pk=tenant.pk).update(usage_limit=wanted)
    tenant.usage_limit = wanted
    return wanted


def backstop_raise(*, at: datetime | None = None) -> int:
    """Beat: bring every active tenant's backstop to the rule; returns how many moved."""
    moved = 0
    with scopes_disabled():
        tenants = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE)
            .exclude(elks_subaccount_id=None)
            .exclude(elks_subaccount_id="")
        )
    for tenant in tenants:
        before = tenant.usage_limit
        try:
            if backstop_apply(tenant=tenant, at=at) != before:
                moved += 1
        except BackstopError:
            log.exception("Backstop for tenant %s not moved", tenant.pk)
    return moved

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import Tenant
from billing.models import UsageSnapshot


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_this_month(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Spend since the first of the month: last synced total minus the total at month start.

    Must run inside the tenant's scope. The baseline is the last snapshot before the month
    began; a tenant created this month started from zero; otherwise the month's first
    snapshot is the best baseline we have.
    """
    start = month_start(now)
    before = (
        UsageSnapshot.objects.filter(taken_at__lt=start).order_by("-taken_at").only("balanceused")
    ).first()
    if before is not None:
        baseline = before.balanceused
    elif tenant.created >= start:
        baseline = 0
    else:
        first = UsageSnapshot.objects.filter(taken_at__gte=start).order_by("taken_at").first()
        baseline = first.balanceused if first else tenant.usage
    return max(0, tenant.usage - baseline)

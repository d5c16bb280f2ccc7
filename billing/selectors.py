from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from accounts.models import Tenant
from billing.models import BillingAccount, UsageSnapshot
from billing.periods import current_period
from billing.services import account_for


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


@dataclass(frozen=True)
class PeriodUsage:
    """The one spend figure every page shows, tenants and staff alike: the tenant's price
    billed this period (calendar month in its billing time zone), plus what is reserved for
    sends in flight, against its monthly limit (postpaid) or its balance (prepaid)."""

    period: date
    mode: str
    spent: int  # priced usage billed this period
    reserved: int
    limit: int  # postpaid: the monthly limit; prepaid: 0
    balance: int  # prepaid: what is left before reservations; postpaid: 0

    @property
    def prepaid(self) -> bool:
        return self.mode == BillingAccount.Mode.PREPAID

    @property
    def committed(self) -> int:
        return self.spent + self.reserved

    @property
    def remaining(self) -> int:
        if self.prepaid:
            return max(0, self.balance - self.reserved)
        return max(0, self.limit - self.committed)

    @property
    def percent(self) -> int:
        """Share of the limit used (postpaid), 0..100."""
        if self.prepaid:
            return 0
        if self.limit <= 0:
            return 100 if self.committed > 0 else 0
        return min(100, self.committed * 100 // self.limit)


def period_usage(*, tenant: Tenant | int, at: datetime | None = None) -> PeriodUsage:
    """Reads the account row fresh (counters move); needs no tenant scope."""
    return period_usage_of(account_for(tenant), at=at)


def period_usage_of(account: BillingAccount, *, at: datetime | None = None) -> PeriodUsage:
    """The same figure from an account already read (a staff list of tenants: no query each)."""
    period = current_period(account.time_zone, at)
    spent = account.period_spent if account.period_start >= period else 0
    return PeriodUsage(
        period=period,
        mode=account.mode,
        spent=spent,
        reserved=account.reserved,
        limit=account.monthly_limit,
        balance=account.balance if account.is_prepaid else 0,
    )

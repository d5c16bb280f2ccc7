from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Tenant
from billing.models import BillingAccount, UsageSnapshot
from billing.periods import current_period
from billing.services import account_for
from calls.models import Call
from messaging.models import Message


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
class LiveUsage:
    """The tenant's spend now: 46elks' last figure plus what was recorded here since.

    46elks' `balanceused` is read by the sync (every USAGE_REFRESH_SECONDS); sends and calls
    recorded since that read are added from their own rows, so a page or a pre-flight never
    works from a figure older than the last send.
    """

    synced: int  # 46elks' balanceused at the last sync
    synced_at: datetime | None
    since_sync: int  # known costs of messages and calls recorded after that read
    reserved: int  # campaign sends estimated but not yet in 46elks' figure
    month: int  # this month's spend, live
    limit: int

    @property
    def committed(self) -> int:
        """What counts against the limit: spent, plus reserved for sends in flight."""
        return self.synced + self.since_sync + self.reserved

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.committed)


def spend_since(*, tenant: Tenant, since: datetime | None) -> int:
    """Known costs recorded after `since` that 46elks' last figure cannot contain yet.

    Campaign sends are left out (their estimate is in `reserved` until the sync sees them),
    as are rows imported from 46elks' history (already in its figure). A row recorded between
    46elks' answer and the sync's timestamp may be counted twice until the next sync: too
    high for a minute, never too low.
    """
    after = Q(created__gt=since) if since else Q()
    messages = (
        Message.objects.filter(after, tenant=tenant, cost__isnull=False)
        .exclude(source__in=[Message.Source.CAMPAIGN, Message.Source.HISTORY])
        .aggregate(total=Sum("cost"))["total"]
    )
    calls = (
        Call.objects.filter(after, tenant=tenant, cost__isnull=False)
        .exclude(source=Call.Source.HISTORY)
        .aggregate(total=Sum("cost"))["total"]
    )
    return (messages or 0) + (calls or 0)


def live_usage(*, tenant: Tenant, now: datetime | None = None) -> LiveUsage:
    """Must run inside the tenant's scope; reads the tenant row fresh (counters move)."""
    tenant.refresh_from_db(fields=["usage", "reserved", "usage_limit", "usage_synced_at"])
    since = spend_since(tenant=tenant, since=tenant.usage_synced_at)
    return LiveUsage(
        synced=tenant.usage,
        synced_at=tenant.usage_synced_at,
        since_sync=since,
        reserved=tenant.reserved,
        month=usage_this_month(tenant=tenant, now=now) + since,
        limit=tenant.usage_limit,
    )


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

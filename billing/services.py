from __future__ import annotations

from datetime import datetime

from accounts.models import Tenant
from billing.models import UsageSnapshot


def usage_snapshot_record(*, tenant: Tenant, balanceused: int, taken_at: datetime) -> None:
    UsageSnapshot.objects.create(tenant=tenant, balanceused=balanceused, taken_at=taken_at)

"""Reads for the alert banners (tenant billing pages, the staff console)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Tenant
from billing.models import BillingAlert, StaffAlert
from billing.periods import current_period
from billing.services import account_for


def alerts_open(*, tenant: Tenant, at: datetime | None = None) -> QuerySet[BillingAlert]:
    """This period's alerts the tenant has not dismissed (inside the tenant's scope)."""
    period = current_period(account_for(tenant).time_zone, at)
    return BillingAlert.objects.filter(tenant=tenant, period=period, dismissed=None)


def staff_alerts_open() -> QuerySet[StaffAlert]:
    return StaffAlert.objects.filter(resolved=None).select_related("tenant")[:20]

"""Billing: each tenant's account (plan, mode, limit or balance, period), its top-ups and
alerts, and the usage snapshots of 46elks' `balanceused` kept for reconciliation.

Prices and limits here are the tenant's price (what the reseller charges), in 1/10000 of the
currency; the provider's cost is kept beside it in the ledger (`billing.ledger`) for staff.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Tenant, TenantOwned
from billing.plans.models import RatePlan


def default_thresholds() -> list[int]:
    return [80, 100]


class BillingAccount(models.Model):
    """One per tenant: the hot row every reservation takes, with a conditional UPDATE.

    postpaid: `period_spent + reserved + amount <= monthly_limit` must hold to reserve.
    prepaid:  `reserved + amount <= balance` must hold; rating takes the price off `balance`.
    `period_spent` is the priced usage billed in the period that starts on `period_start`
    (the first of the month in `time_zone`); the settling UPDATE
    (`billing.services.account_settle`) starts the next period.
    """

    class Mode(models.TextChoices):
        POSTPAID = "postpaid", "Postpaid (monthly limit, invoiced)"
        PREPAID = "prepaid", "Prepaid (balance topped up)"

    tenant = models.OneToOneField(
        Tenant, primary_key=True, on_delete=models.CASCADE, related_name="billing"
    )
    plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="accounts")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.POSTPAID)
    monthly_limit = models.BigIntegerField(default=0, help_text="Postpaid, tenant price.")
    balance = models.BigIntegerField(default=0, help_text="Prepaid, tenant price.")
    period_start = models.DateField()
    period_spent = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    time_zone = models.CharField(max_length=64, default="Europe/Stockholm")
    alert_thresholds = models.JSONField(default=default_thresholds, blank=True)
    low_balance = models.BigIntegerField(default=0, help_text="Prepaid alert floor.")
    # VAT: the Swedish standard rate unless the tenant is an EU business with a VAT number.
    vat_rate_bp = models.PositiveIntegerField(default=2500)
    vat_number = models.CharField(max_length=20, blank=True)
    reverse_charge = models.BooleanField(default=False)
    billing_name = models.CharField(max_length=120, blank=True)
    billing_address = models.TextField(blank=True)
    billing_email = models.EmailField(blank=True)
    members_see_invoices = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_limit__gte=0), name="billing_limit_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="billing_reserved_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Billing of {self.tenant_id}"

    @property
    def is_prepaid(self) -> bool:
        return self.mode == self.Mode.PREPAID


class TopUp(TenantOwned):
    """Money a prepaid tenant paid in (or a correction, negative), added to its balance."""

    amount = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["tenant", "created"], name="topup_tenant_created")]

    def __str__(self) -> str:
        return f"{self.tenant_id} +{self.amount}"


class BillingAlert(TenantOwned):
    """A spend alert sent to the tenant's owners: once per threshold per period (unique)."""

    period = models.DateField()
    key = models.CharField(max_length=20, help_text="'80', '100' or 'low_balance'.")
    figure = models.BigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    dismissed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period", "key"], name="billing_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period} {self.key}"


class StaffAlert(models.Model):
    """A console banner and email for staff: master balance low, reconciliation diverged."""

    class Kind(models.TextChoices):
        MASTER_BALANCE = "master_balance", "Master balance low"
        RECONCILIATION = "reconciliation", "Rated cost diverges from 46elks"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE)
    day = models.DateField()
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    resolved = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "tenant", "day"],
                condition=models.Q(tenant__isnull=False),
                name="staff_alert_once_tenant",
            ),
            models.UniqueConstraint(
                fields=["kind", "day"],
                condition=models.Q(tenant__isnull=True),
                name="staff_alert_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day}"


class Reconciliation(TenantOwned):
    """One daily check of a tenant's month: rated provider cost against 46elks' movement."""

    period = models.DateField()
    rated_cost = models.BigIntegerField()
    provider_movement = models.BigIntegerField()
    diverged = models.BooleanField(default=False)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["tenant", "period"], name="reconciliation_period")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period}: {self.rated_cost} vs {self.provider_movement}"


class UsageSnapshot(TenantOwned):
    """The subaccount's total spend (46elks `balanceused`) as read by one sync.

    Appended, never updated: 46elks' movement over a period is the difference between two
    snapshots (reconciliation). Pruned to one per day after 30 days.
    """

    taken_at = models.DateTimeField(default=timezone.now)
    balanceused = models.BigIntegerField(help_text="1/10000 of the currency unit.")

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["tenant", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.taken_at:%Y-%m-%d %H:%M} {self.balanceused}"


# Django files a model under the app whose package holds it: importing the subpackages' models
# here keeps them in the `billing` app and makes `billing.models` complete.
from billing.invoices.models import Invoice, InvoiceLine, InvoiceSeries  # noqa: E402
from billing.ledger.models import DailyUsage, MonthlyUsage, UsageEntry, UsageKind  # noqa: E402
from billing.plans.models import PlanPrice, PriceKind, RatePlanVersion  # noqa: E402

__all__ = [
    "BillingAccount",
    "BillingAlert",
    "DailyUsage",
    "Invoice",
    "InvoiceLine",
    "InvoiceSeries",
    "MonthlyUsage",
    "PlanPrice",
    "PriceKind",
    "RatePlan",
    "RatePlanVersion",
    "Reconciliation",
    "StaffAlert",
    "TopUp",
    "UsageEntry",
    "UsageKind",
    "UsageSnapshot",
]

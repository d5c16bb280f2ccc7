"""The usage ledger: one entry per cost-bearing event, with the provider's cost and the
tenant's price side by side, in 1/10000 of the tenant's currency.

Entries are append-only. An event is rated once, in the transaction that records it (entry
`seq` 0, unique per `source`); when 46elks later reports the real cost, a correcting entry
(`seq` 1, 2, ...) carries the difference. The sum over a source is what it cost and what the
tenant pays. An entry is billed in the period of its `day` (the tenant's local day when it
was appended): a correction arriving after a month closed is billed in the next one.

`DailyUsage` keeps the pages fast: each entry also appends a delta row (`squashed` false);
the `usage-squash` beat task merges deltas into one squashed row per (tenant, day, kind,
number). Readers sum both, so a page is exact before the merge and costs the same after.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from accounts.models import TenantOwned
from billing.plans.models import RatePlanVersion
from numbers.models import PhoneNumber


class UsageKind(models.TextChoices):
    SMS_OUT = "sms_out", "SMS sent"
    SMS_IN = "sms_in", "SMS received"
    MMS_OUT = "mms_out", "MMS sent"
    MMS_IN = "mms_in", "MMS received"
    CALL = "call", "Calls"
    NUMBER = "number", "Numbers"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise TypeError("Usage entries are append-only: append a correcting entry instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Usage entries are append-only.")


class UsageEntry(TenantOwned):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=8, choices=UsageKind.choices)
    # The event rated, e.g. "message:123", "call:45", "number:9:2026-11".
    source = models.CharField(max_length=64)
    seq = models.PositiveSmallIntegerField(default=0)
    number = models.ForeignKey(
        PhoneNumber,
        null=True,
        blank=True,
        # Kept as written: an append-only row outlives its number (no cascade may touch it).
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    country = models.CharField(max_length=2, blank=True)
    # Parts for SMS, messages for MMS, billed seconds for calls, months for numbers. A
    # correction carries 0 unless it changes the quantity.
    quantity = models.BigIntegerField(default=0)
    provider_cost = models.BigIntegerField()
    price = models.BigIntegerField()
    # The provider cost is our estimate (46elks has not reported it yet).
    estimated = models.BooleanField(default=False)
    plan_version = models.ForeignKey(
        RatePlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField()
    day = models.DateField(help_text="Tenant-local day it is billed on.")
    created = models.DateTimeField(default=timezone.now)

    # The scoped manager of TenantOwned, over a queryset that refuses update() and delete().
    objects = ScopedManager(  # type: ignore[misc]  # same manager type, append-only queryset
        tenant="tenant", _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet)
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "seq"], name="usage_entry_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "day"], name="usage_entry_tenant_day"),
            models.Index(fields=["day"], name="usage_entry_day"),
        ]

    def __str__(self) -> str:
        return f"{self.source}#{self.seq}: {self.price} ({self.provider_cost})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("Usage entries are append-only: append a correcting entry instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passes Django's own options

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("Usage entries are append-only.")


class DailyUsage(TenantOwned):
    day = models.DateField()
    kind = models.CharField(max_length=8, choices=UsageKind.choices)
    number = models.ForeignKey(
        PhoneNumber,
        null=True,
        blank=True,
        # Kept as written: an append-only row outlives its number (no cascade may touch it).
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    events = models.BigIntegerField(default=0)
    quantity = models.BigIntegerField(default=0)
    provider_cost = models.BigIntegerField(default=0)
    price = models.BigIntegerField(default=0)
    squashed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "kind", "number"],
                condition=models.Q(squashed=True, number__isnull=False),
                name="daily_usage_squashed_number",
            ),
            models.UniqueConstraint(
                fields=["tenant", "day", "kind"],
                condition=models.Q(squashed=True, number__isnull=True),
                name="daily_usage_squashed_no_number",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "day"], name="daily_usage_tenant_day"),
            models.Index(fields=["day", "tenant"], name="daily_usage_day"),
            models.Index(
                fields=["id"], condition=models.Q(squashed=False), name="daily_usage_unsquashed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.kind}: {self.price}"


class MonthlyUsage(TenantOwned):
    """The squashed daily rows summed per (tenant, month, kind): the margin report reads these
    (months x kinds per tenant, however many entries or numbers), plus the deltas not folded
    yet. Written only by `usage_squash`, in the transaction that folds the deltas."""

    period = models.DateField(help_text="First day of the month.")
    kind = models.CharField(max_length=8, choices=UsageKind.choices)
    events = models.BigIntegerField(default=0)
    quantity = models.BigIntegerField(default=0)
    provider_cost = models.BigIntegerField(default=0)
    price = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period", "kind"], name="monthly_usage_once"),
        ]
        indexes = [models.Index(fields=["period", "tenant"], name="monthly_usage_period")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period:%Y-%m} {self.kind}: {self.price}"

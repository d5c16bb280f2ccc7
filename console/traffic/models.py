"""One row of traffic and spend per (tenant, local day, number or none).

Charts read these rows instead of the raw message and call logs. `number` is empty for traffic
that has no rented number (an alphanumeric sender, a number since released). Money is in
1/10000 of the tenant's currency; `cost` sums known costs only and `cost_unknown` counts the
charged rows (outgoing messages, calls) whose cost 46elks has not told us yet.
"""

from __future__ import annotations

from django.db import models

from accounts.models import TenantOwned
from numbers.models import PhoneNumber


class DailyTraffic(TenantOwned):
    day = models.DateField()
    # Derived data: a number's rows go with it, the next recompute files nothing under it.
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.CASCADE)
    sms_in = models.PositiveIntegerField(default=0)
    sms_out = models.PositiveIntegerField(default=0)
    mms_in = models.PositiveIntegerField(default=0)
    mms_out = models.PositiveIntegerField(default=0)
    parts_out = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    calls_in = models.PositiveIntegerField(default=0)
    calls_out = models.PositiveIntegerField(default=0)
    call_seconds = models.PositiveBigIntegerField(default=0)
    cost = models.BigIntegerField(default=0)
    cost_unknown = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "number"],
                condition=models.Q(number__isnull=False),
                name="daily_traffic_number",
            ),
            models.UniqueConstraint(
                fields=["tenant", "day"],
                condition=models.Q(number__isnull=True),
                name="daily_traffic_no_number",
            ),
        ]
        indexes = [models.Index(fields=["day", "tenant"], name="daily_traffic_day")]

    def __str__(self) -> str:
        return f"Traffic of {self.tenant_id} on {self.day} ({self.number_id or 'no number'})"

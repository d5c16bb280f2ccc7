from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned


class UsageSnapshot(TenantOwned):
    """The subaccount's total spend (46elks `balanceused`) as read by one sync.

    Appended, never updated: usage over a period is the difference between two snapshots.
    """

    taken_at = models.DateTimeField(default=timezone.now)
    balanceused = models.BigIntegerField(help_text="1/10000 of the currency unit.")

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["tenant", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.taken_at:%Y-%m-%d %H:%M} {self.balanceused}"

"""Housekeeping writes of the usage data: pruning 46elks' usage snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import UsageSnapshot

SNAPSHOT_KEEP_DAYS = 30


def snapshot_prune(
    *, keep_days: int = SNAPSHOT_KEEP_DAYS, now: datetime | None = None, batch: int = 10_000
) -> int:
    """Keep every snapshot of the last `keep_days` days, and before that the last one of each
    tenant and (UTC) day: reconciliation compares a day's closing figures. Returns how many
    were deleted; batched so one run never holds a long transaction."""
    today = (now or timezone.now()).astimezone(UTC).date()
    cutoff = datetime.combine(today - timedelta(days=keep_days), time.min, tzinfo=UTC)
    deleted = 0
    with scopes_disabled():
        # A later snapshot of the same tenant and day (ties broken by id) makes this one spare.
        later = UsageSnapshot.objects.annotate(day=TruncDate("taken_at", tzinfo=UTC)).filter(
            Q(taken_at__gt=OuterRef("taken_at"))
            | Q(taken_at=OuterRef("taken_at"), id__gt=OuterRef("id")),
            tenant_id=OuterRef("tenant_id"),
            day=OuterRef("day"),
        )
        spare = (
            UsageSnapshot.objects.filter(taken_at__lt=cutoff)
            .annotate(day=TruncDate("taken_at", tzinfo=UTC))
            .filter(Exists(later))
            .order_by()
            .values_list("id", flat=True)
        )
        while True:
            with transaction.atomic():
                ids = list(spare[:batch])
                if not ids:
                    return deleted
                deleted += UsageSnapshot.objects.filter(id__in=ids).delete()[0]

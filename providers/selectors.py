"""Reads over stored provider callbacks, for the staff webhooks page.

The table grows by one row per callback and keeps processed rows, so nothing here counts the
whole of it: every query is bounded by an index (see WebhookEvent.Meta.indexes) to the rows it
reports on, the backlog (pending and failed) and the last few minutes of processed events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from providers.models import WebhookEvent

RATE_SHORT = timedelta(minutes=1)
RATE_LONG = timedelta(minutes=5)


@dataclass(frozen=True)
class Backlog:
    as_of: datetime
    pending: int
    # Pending events that hit a temporary error and wait for their next attempt.
    waiting_retry: int
    oldest_pending: timedelta | None
    failed: int
    processed_last_minute: int
    processed_last_5_minutes: int

    @property
    def rate_last_minute(self) -> float:
        """Processed events per second over the last minute."""
        return self.processed_last_minute / RATE_SHORT.total_seconds()

    @property
    def rate_last_5_minutes(self) -> float:
        return self.processed_last_5_minutes / RATE_LONG.total_seconds()


def webhook_backlog(now: datetime | None = None) -> Backlog:
    """What waits, for how long, and how fast it drains, in two queries."""
    now = now or timezone.now()
    pending = Q(status=WebhookEvent.Status.PENDING)
    # One pass over the (status, received) index: the backlog only, however big the table.
    queue = WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED]
    ).aggregate(
        pending=Count("pk", filter=pending),
        waiting_retry=Count("pk", filter=pending & Q(next_attempt__gt=now)),
        oldest=Min("received", filter=pending),
        failed=Count("pk", filter=Q(status=WebhookEvent.Status.FAILED)),
    )
    # A range scan on the partial index over `processed`: as many rows as the last 5 minutes
    # processed, not the millions processed before.
    recent = WebhookEvent.objects.filter(
        processed__gte=now - RATE_LONG, processed__lte=now
    ).aggregate(
        # Counting `processed` (not the id) reads nothing outside the index: rows the vacuum
        # has marked visible need no visit to the table.
        last_5=Count("processed"),
        last_1=Count("processed", filter=Q(processed__gte=now - RATE_SHORT)),
    )
    oldest = queue["oldest"]
    return Backlog(
        as_of=now,
        pending=queue["pending"],
        waiting_retry=queue["waiting_retry"],
        # An event received a moment after `now` (clock skew between hosts) is not negative.
        oldest_pending=max(now - oldest, timedelta(0)) if oldest else None,
        failed=queue["failed"],
        processed_last_minute=recent["last_1"],
        processed_last_5_minutes=recent["last_5"],
    )

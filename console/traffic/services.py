"""Keep the daily rollups: recompute whole local days from the raw logs, idempotently.

A recompute deletes the window's rows and writes them again from two grouped queries (one over
messages, one over calls) bounded by `tenant_id IN (...) AND created` in the window, which the
`message_log` and `call_log` indexes (tenant, -created) answer. A late delivery report or cost
changes a message of an earlier day; the beat job recomputes today and yesterday, so it lands
within a minute as long as it arrives the next day at the latest (older ones: the backfill).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from calls.models import Call
from console.traffic.models import DailyTraffic
from messaging.models import Message

Key = tuple[int, date, int | None]

_OUT = Q(direction=Message.Direction.OUT)
_IN = Q(direction=Message.Direction.IN)
_SMS = Q(kind=Message.Kind.SMS)
_MMS = Q(kind=Message.Kind.MMS)
# Messages not yet handed to 46elks cost nothing yet; counting them unknown would be a guess.
_CHARGED = _OUT & Q(
    status__in=[
        Message.Status.CREATED,
        Message.Status.SENT,
        Message.Status.DELIVERED,
        Message.Status.UNKNOWN,
    ]
)


def local_today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in the settings time zone."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


def _message_rows(tenant_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    tz = timezone.get_current_timezone()
    return list(
        Message.objects.filter(tenant_id__in=tenant_ids, created__gte=start, created__lt=end)
        .annotate(day=TruncDate("created", tzinfo=tz))
        .values("tenant_id", "day", "number_id")
        .annotate(
            sms_in=Count("id", filter=_IN & _SMS),
            sms_out=Count("id", filter=_OUT & _SMS),
            mms_in=Count("id", filter=_IN & _MMS),
            mms_out=Count("id", filter=_OUT & _MMS),
            parts_out=Sum("parts", filter=_OUT),
            delivered=Count("id", filter=_OUT & Q(status=Message.Status.DELIVERED)),
            failed=Count("id", filter=_OUT & Q(status=Message.Status.FAILED)),
            spent=Sum("cost"),  # not `cost`: that name would shadow the field below
            cost_unknown=Count("id", filter=_CHARGED & Q(cost__isnull=True)),
        )
        .order_by()
    )


def _call_rows(tenant_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    tz = timezone.get_current_timezone()
    return list(
        Call.objects.filter(tenant_id__in=tenant_ids, created__gte=start, created__lt=end)
        .annotate(day=TruncDate("created", tzinfo=tz))
        .values("tenant_id", "day", "number_id")
        .annotate(
            calls_in=Count("id", filter=Q(direction=Call.Direction.IN)),
            calls_out=Count("id", filter=Q(direction=Call.Direction.OUT)),
            call_seconds=Sum("duration"),
            spent=Sum("cost"),  # not `cost`: that name would shadow the field below
            # A call still queued or ongoing has no cost yet by nature; a finished one should.
            cost_unknown=Count(
                "id",
                filter=Q(cost__isnull=True) & ~Q(state__in=[Call.State.QUEUED, Call.State.ONGOING]),
            ),
        )
        .order_by()
    )


def traffic_rollup(*, first: date, last: date) -> int:
    """Recompute every tenant's rows for the local days first..last; returns rows written."""
    start, end = day_bounds(first, last)
    with scopes_disabled():
        tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
        rows: dict[Key, DailyTraffic] = {}
        totals: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in _message_rows(tenant_ids, start, end) + _call_rows(tenant_ids, start, end):
            key = (row.pop("tenant_id"), row.pop("day"), row.pop("number_id"))
            row["cost"] = row.pop("spent")
            for field, value in row.items():
                totals[key][field] += value or 0
        for (tenant_id, day, number_id), fields in totals.items():
            rows[(tenant_id, day, number_id)] = DailyTraffic(
                tenant_id=tenant_id, day=day, number_id=number_id, **fields
            )
        with transaction.atomic():
            DailyTraffic.objects.filter(day__gte=first, day__lte=last).delete()
            DailyTraffic.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


def traffic_rollup_recent(now: datetime | None = None) -> int:
    """The beat job's window: yesterday and today (late reports land in yesterday)."""
    today = local_today(now)
    return traffic_rollup(first=today - timedelta(days=1), last=today)


def traffic_rollup_rebuild(days: int, now: datetime | None = None) -> int:
    """Backfill: the last `days` local days, today included."""
    today = local_today(now)
    return traffic_rollup(first=today - timedelta(days=max(days, 1) - 1), last=today)

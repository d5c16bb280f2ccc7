"""Chart data from the daily rollups: one or two grouped queries per chart, zeros filled in.

Each function returns a Chart.js-shaped dict (labels, datasets) plus `summary`, the text
alternative a screen reader gets, and `empty`, so the page can say so instead of drawing zeros.
Money stays in 1/10000 units in `data`; the summary formats it with core.money.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.ledger.models import DailyUsage
from billing.periods import local_day, next_period
from billing.selectors import period_usage_of
from billing.services import account_for
from console.traffic.models import DailyTraffic
from console.traffic.services import local_today
from core.money import format_money
from messaging.campaigns.models import Campaign, CampaignRecipient
from numbers.models import PhoneNumber

RANGES = (7, 30, 60)
DEFAULT_RANGE = 30
STAFF_TENANTS = 15

Chart = dict[str, Any]


def parse_range(value: str | None) -> int:
    """The ?days= of a chart request; anything but an offered range gets the default."""
    try:
        days = int(value or "")
    except ValueError:
        return DEFAULT_RANGE
    return days if days in RANGES else DEFAULT_RANGE


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _daily(
    rows: QuerySet[DailyTraffic], days: int, fields: list[str]
) -> tuple[list[date], dict[str, list[int]]]:
    """Per-day sums of `fields` over the last `days` local days, missing days as zeros."""
    last = local_today()
    first = last - timedelta(days=days - 1)
    sums = (
        rows.filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(**{f: Sum(f) for f in fields})
        .order_by("day")
    )
    by_day: dict[date, dict[str, Any]] = {row["day"]: row for row in sums}
    labels = _days(first, last)
    empty: dict[str, Any] = {}
    series = {f: [int(by_day.get(d, empty).get(f) or 0) for d in labels] for f in fields}
    return labels, series


def _dataset(label: str, data: list[Any], **extra: Any) -> dict[str, Any]:
    return {"label": label, "data": data, **extra}


def _messages_chart(rows: QuerySet[DailyTraffic], days: int) -> Chart:
    labels, s = _daily(
        rows, days, ["sms_in", "mms_in", "sms_out", "mms_out", "delivered", "failed"]
    )
    received = [a + b for a, b in zip(s["sms_in"], s["mms_in"], strict=True)]
    sent = [a + b for a, b in zip(s["sms_out"], s["mms_out"], strict=True)]
    # Delivery rate over the messages that got a final report; none → no point, not 0 %.
    rate = [
        round(100 * d / (d + f), 1) if d + f else None
        for d, f in zip(s["delivered"], s["failed"], strict=True)
    ]
    delivered, failed = sum(s["delivered"]), sum(s["failed"])
    total_rate = f"{100 * delivered / (delivered + failed):.1f} %" if delivered + failed else "—"
    return {
        "type": "bar",
        "labels": [d.isoformat() for d in labels],
        "datasets": [
            _dataset("Received", received),
            _dataset("Sent", sent),
            _dataset("Delivery rate (%)", rate, type="line", yAxisID="percent"),
        ],
        "summary": (
            f"Last {days} days: {sum(received)} messages received, {sum(sent)} sent, "
            f"{delivered} delivered, {failed} failed, delivery rate {total_rate}."
        ),
        "empty": not (sum(received) or sum(sent)),
    }


def _calls_chart(rows: QuerySet[DailyTraffic], days: int) -> Chart:
    labels, s = _daily(rows, days, ["calls_in", "calls_out", "call_seconds"])
    minutes = sum(s["call_seconds"]) // 60
    return {
        "type": "bar",
        "labels": [d.isoformat() for d in labels],
        "datasets": [
            _dataset("Incoming calls", s["calls_in"]),
            _dataset("Outgoing calls", s["calls_out"]),
        ],
        "summary": (
            f"Last {days} days: {sum(s['calls_in'])} incoming calls, {sum(s['calls_out'])} "
            f"outgoing, {minutes} minutes in all."
        ),
        "empty": not (sum(s["calls_in"]) or sum(s["calls_out"])),
    }


def _spend_chart(tenant: Tenant) -> Chart:
    """This period's priced spend, cumulative per day, against the monthly limit (postpaid).

    The tenant's price from the usage ledger's daily rows (billing), never 46elks' cost: the
    same figure as the spend card (billing.selectors.period_usage), one grouped query.
    """
    account = account_for(tenant)
    usage = period_usage_of(account)
    today = local_day(account.time_zone)
    first = usage.period
    sums = dict(
        DailyUsage.objects.filter(tenant=tenant, day__gte=first, day__lt=next_period(first))
        .values("day")
        .annotate(price=Sum("price"))
        .order_by()
        .values_list("day", "price")
    )
    labels = _days(first, today)
    running, cumulative = 0, []
    for day in labels:
        running += int(sums.get(day) or 0)
        cumulative.append(running)
    currency = tenant.currency
    datasets = [_dataset("Spent this month", cumulative, fill=True)]
    if usage.prepaid:
        summary = (
            f"Spent this month: {format_money(running, currency)}; balance "
            f"{format_money(usage.balance, currency)}."
        )
    else:
        datasets.append(_dataset("Monthly limit", [usage.limit] * len(labels), dashed=True))
        summary = (
            f"Spent this month: {format_money(running, currency)} of a "
            f"{format_money(usage.limit, currency)} limit."
        )
    return {
        "type": "line",
        "money": True,
        "currency": currency,
        "labels": [d.isoformat() for d in labels],
        "datasets": datasets,
        "summary": summary,
        "empty": not sums,
    }


def overview_chart(*, tenant: Tenant, chart: str, days: int) -> Chart | None:
    """The tenant overview's charts; None for an unknown chart name. Runs in the tenant's scope."""
    rows = DailyTraffic.objects.filter(tenant=tenant)
    if chart == "messages":
        return _messages_chart(rows, days)
    if chart == "calls":
        return _calls_chart(rows, days)
    if chart == "spend":
        return _spend_chart(tenant)
    return None


def number_chart(*, number: PhoneNumber, days: int) -> Chart:
    """One number's messages and calls per day."""
    labels, s = _daily(
        DailyTraffic.objects.filter(number=number),
        days,
        ["sms_in", "mms_in", "sms_out", "mms_out", "calls_in", "calls_out"],
    )
    received = [a + b for a, b in zip(s["sms_in"], s["mms_in"], strict=True)]
    sent = [a + b for a, b in zip(s["sms_out"], s["mms_out"], strict=True)]
    calls = [a + b for a, b in zip(s["calls_in"], s["calls_out"], strict=True)]
    return {
        "type": "bar",
        "labels": [d.isoformat() for d in labels],
        "datasets": [
            _dataset("Messages received", received),
            _dataset("Messages sent", sent),
            _dataset("Calls", calls),
        ],
        "summary": (
            f"Last {days} days: {sum(received)} messages received, {sum(sent)} sent, "
            f"{sum(calls)} calls."
        ),
        "empty": not (sum(received) or sum(sent) or sum(calls)),
    }


def staff_chart(*, chart: str, days: int) -> Chart | None:
    """Every tenant's traffic (messages and calls) or spend over the range, busiest first."""
    if chart not in ("traffic", "spend"):
        return None
    first = local_today() - timedelta(days=days - 1)
    with scopes_disabled():
        rows = list(
            DailyTraffic.objects.filter(day__gte=first)
            .values("tenant__name", "tenant__currency")
            .annotate(
                sms_in=Sum("sms_in"),
                mms_in=Sum("mms_in"),
                sms_out=Sum("sms_out"),
                mms_out=Sum("mms_out"),
                calls=Sum("calls_in") + Sum("calls_out"),
                cost=Sum("cost"),
            )
            .order_by("tenant__name")
        )
    for row in rows:
        row["messages"] = row["sms_in"] + row["mms_in"] + row["sms_out"] + row["mms_out"]
    if chart == "traffic":
        rows.sort(key=lambda r: -(r["messages"] + r["calls"]))
        rows = rows[:STAFF_TENANTS]
        datasets = [
            _dataset("Messages", [r["messages"] for r in rows]),
            _dataset("Calls", [r["calls"] for r in rows]),
        ]
        summary = f"Last {days} days, busiest tenants: " + "; ".join(
            f"{r['tenant__name']} {r['messages']} messages, {r['calls']} calls" for r in rows
        )
        extra: dict[str, Any] = {}
    else:
        rows.sort(key=lambda r: -r["cost"])
        rows = rows[:STAFF_TENANTS]
        datasets = [_dataset("Provider cost", [r["cost"] for r in rows])]
        summary = f"Last {days} days, highest provider cost: " + "; ".join(
            f"{r['tenant__name']} {format_money(r['cost'], r['tenant__currency'])}" for r in rows
        )
        # Tenants may bill in different currencies: the axis shows units, the summary names them.
        extra = {"money": True, "currency": ""}
    return {
        "type": "bar",
        "horizontal": True,
        "labels": [r["tenant__name"] for r in rows],
        "datasets": datasets,
        "summary": summary + ".",
        "empty": not rows,
        **extra,
    }


def _bucket(span: timedelta) -> tuple[str, timedelta]:
    """Minutes for a run of up to three hours, hours up to ten days, days beyond."""
    if span <= timedelta(hours=3):
        return "minute", timedelta(minutes=1)
    if span <= timedelta(days=10):
        return "hour", timedelta(hours=1)
    return "day", timedelta(days=1)


def campaign_chart(*, campaign: Campaign) -> Chart:
    """Sends and deliveries over the run, cumulative, from the campaign's own recipients.

    A campaign lasts minutes to hours, finer than a day, so it is not a rollup: two grouped
    queries over this campaign's recipients only (the `recipient_queue` index starts with the
    campaign), bucketed by minute, hour or day so a chart has at most ~240 points.
    """
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    start = campaign.launched_at
    if start is None:
        return {
            "type": "line",
            "labels": [],
            "datasets": [],
            "summary": "Not launched yet.",
            "empty": True,
        }
    end = campaign.finished_at or timezone.now()
    kind, step = _bucket(end - start)
    tz = timezone.get_current_timezone()
    counts: dict[str, dict[datetime, int]] = {}
    for field in ("sent_at", "delivered_at"):
        counts[field] = dict(
            recipients.filter(**{f"{field}__isnull": False})
            .annotate(bucket=Trunc(field, kind, tzinfo=tz))
            .values("bucket")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("bucket", "n")
        )
    # Reports arrive after the run: the axis goes on to the last delivery.
    last = max([end, *counts["delivered_at"], *counts["sent_at"]])
    bucket = _trunc(timezone.localtime(start, tz), kind)
    labels, sent, delivered = [], [], []
    running_sent = running_delivered = 0
    while bucket <= last:
        running_sent += counts["sent_at"].get(bucket, 0)
        running_delivered += counts["delivered_at"].get(bucket, 0)
        labels.append(bucket.strftime("%Y-%m-%d" if kind == "day" else "%H:%M"))
        sent.append(running_sent)
        delivered.append(running_delivered)
        bucket = _trunc(timezone.localtime(bucket + step, tz), kind)
    return {
        "type": "line",
        "labels": labels,
        "datasets": [_dataset("Sent", sent), _dataset("Delivered", delivered)],
        "summary": (
            f"{running_sent} of {campaign.recipient_count} messages sent, {running_delivered} "
            f"delivered, per {kind} since launch."
        ),
        "empty": not running_sent,
    }


def _trunc(moment: datetime, kind: str) -> datetime:
    if kind == "minute":
        return moment.replace(second=0, microsecond=0)
    if kind == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)

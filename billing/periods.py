"""Billing periods: calendar months in the tenant's billing time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def local_day(time_zone: str, at: datetime | None = None) -> date:
    return (at or timezone.now()).astimezone(ZoneInfo(time_zone)).date()


def period_of(day: date) -> date:
    """The first day of the month holding `day`."""
    return day.replace(day=1)


def current_period(time_zone: str, at: datetime | None = None) -> date:
    return period_of(local_day(time_zone, at))


def next_period(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def previous_period(period: date) -> date:
    return date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


def period_bounds(period: date, time_zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the period as aware datetimes."""
    zone = ZoneInfo(time_zone)
    start = datetime(period.year, period.month, 1, tzinfo=zone)
    following = next_period(period)
    return start, datetime(following.year, following.month, 1, tzinfo=zone)

"""What the filtered logs (calls, messages) share: direction, our number and a date range read
from the query string, the `since` of a polling page, and the export's file name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, Self

from django.db.models import QuerySet
from django.utils import timezone


def parse_since(value: str | None) -> datetime | None:
    """The `since` a polling page sent back; anything unreadable means "render everything"."""
    if not value:
        return None
    try:
        # A "+" in the offset arrives as a space when the page did not encode it.
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def day_start(day: date) -> datetime:
    """Midnight of `day` in the portal's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def export_filename(kind: str, tenant_slug: str) -> str:
    return f"{kind}-{tenant_slug}-{timezone.now().strftime('%Y%m%d-%H%M')}.csv"


@dataclass(frozen=True)
class LogFilters:
    """The filters every log has; a log's own filters subclass it and add theirs."""

    direction: str = ""
    ours: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        return cls(**cls.common(query))

    @classmethod
    def common(cls, query: Mapping[str, str], directions: Any = ()) -> dict[str, Any]:
        direction = query.get("direction", "")
        return {
            "direction": direction if direction in directions else "",
            "ours": query.get("number", "").strip()[:20],
            "date_from": parse_day(query.get("from")),
            "date_to": parse_day(query.get("to")),
        }

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        if self.direction:
            qs = qs.filter(direction=self.direction)
        if self.ours:
            qs = qs.filter(ours=self.ours)
        # Whole days in the portal's time zone, as bounds on `created` (the index serves them).
        if self.date_from:
            qs = qs.filter(created__gte=day_start(self.date_from))
        if self.date_to:
            qs = qs.filter(created__lt=day_start(self.date_to + timedelta(days=1)))
        return qs

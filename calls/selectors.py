"""Reads for the Calls pages: the filtered log, its live version, voicemail, and tables.

Everything here runs inside the tenant's scope (a tenant page, or a TenantTask), so the
TenantOwned managers already filter on the tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Tenant
from calls.models import Call, Recording
from core.log_filters import LogFilters
from core.pagination import KeysetPage, keyset_page
from numbers.hooks import redact_callback_tokens

PAGE_SIZE = 50
VOICEMAIL_PAGE_SIZE = 30

# What an empty log polls with: quiet until the first call appears.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CallFilters(LogFilters):
    state: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> CallFilters:
        state = query.get("state", "")
        return cls(
            **cls.common(query, Call.Direction.values),
            state=state if state in Call.State.values else "",
        )

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        qs = super().apply(qs)
        return qs.filter(state=self.state) if self.state else qs


def _recording_count() -> Coalesce:
    counted = (
        Recording.objects.filter(call=OuterRef("pk"))
        .order_by()
        .values("call")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def log_queryset(filters: CallFilters) -> QuerySet:
    """The filtered log with per-row recording markers, in one query (no N+1)."""
    voicemail = Recording.objects.filter(call=OuterRef("pk"), kind=Recording.Kind.VOICEMAIL)
    unheard = voicemail.filter(heard=None)
    return filters.apply(Call.objects.select_related("number")).annotate(
        recording_count=_recording_count(),
        has_voicemail=Exists(voicemail),
        has_unheard=Exists(unheard),
    )


def log_page(*, filters: CallFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    return keyset_page(log_queryset(filters), cursor=cursor, size=size)


def log_version() -> datetime:
    """The newest change among the tenant's calls: what the live log polls with."""
    return Call.objects.aggregate(v=Max("updated"))["v"] or EPOCH


def log_changed_since(since: datetime) -> bool:
    return Call.objects.filter(updated__gt=since).exists()


def export_queryset(filters: CallFilters) -> QuerySet:
    return filters.apply(Call.objects.all()).annotate(recording_count=_recording_count())


# --- a call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]


LEG_COLUMNS = ["from", "to", "state", "duration"]


def legs_table(legs: list[Any]) -> Table:
    """46elks' `legs` as it reported them: known columns first, then any others it added."""
    dicts = [leg for leg in legs if isinstance(leg, dict)]
    extra = sorted({k for leg in dicts for k in leg} - set(LEG_COLUMNS))
    columns = [c for c in LEG_COLUMNS if any(c in leg for leg in dicts)] + extra
    return Table(columns=columns, rows=[[_cell(leg.get(c)) for c in columns] for leg in dicts])


def actions_table(actions: list[Any]) -> Table:
    """Each action as: what it was (connect, play, record…), its target, its result, the rest."""
    rows = []
    for action in actions:
        if not isinstance(action, dict):
            rows.append(["", _cell(action), "", ""])
            continue
        rest = {k: v for k, v in action.items() if k != "result"}
        kind = next(iter(rest), "")
        target = rest.pop(kind, "") if kind else ""
        other = ", ".join(f"{k}: {_cell(v)}" for k, v in rest.items())
        rows.append([kind, _cell(target), _cell(action.get("result", "")), other])
    return Table(columns=["action", "target", "result", "details"], rows=rows)


def _cell(value: Any) -> str:
    # 46elks reports the URLs it called: their callback tokens are not for users' eyes.
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return redact_callback_tokens(json.dumps(value, ensure_ascii=False))
    return redact_callback_tokens(str(value))


# --- voicemail -------------------------------------------------------------------------------


def voicemail_page(*, cursor: str | None, size: int = VOICEMAIL_PAGE_SIZE) -> KeysetPage:
    qs = Recording.objects.filter(kind=Recording.Kind.VOICEMAIL).select_related("call")
    return keyset_page(qs, cursor=cursor, size=size)


def unheard_voicemail_count(tenant: Tenant) -> int:
    """Voicemail nobody has opened yet (audio still kept). Call inside the tenant's scope."""
    return Recording.objects.filter(
        Q(tenant=tenant), kind=Recording.Kind.VOICEMAIL, heard=None, audio_deleted=None
    ).count()


def mmss(seconds: int | None) -> str:
    """`75` → `1:15`; hours roll into minutes (`3725` → `62:05`); None → an em dash."""
    if seconds is None:
        return "—"
    return f"{seconds // 60}:{seconds % 60:02d}"


def calls_per_number(*, number_ids: list[int], since: datetime) -> dict[int, int]:
    """{number id: calls since `since`}, in and out, in one grouped query (numbers' list)."""
    return dict(
        Call.objects.filter(number_id__in=number_ids, created__gte=since)
        .values_list("number_id")
        .annotate(n=Count("id"))
        .values_list("number_id", "n")
    )

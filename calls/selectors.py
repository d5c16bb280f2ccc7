"""Reads for the Calls pages: the filtered log, its live version, voicemail, and tables.

Everything here runs inside the tenant's scope (a tenant page, or a TenantTask), so the
TenantOwned managers already filter on the tenant.
"""

from __future__ import annotations

import json
import re
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
from calls.models import Call, Greeting, Recording
from core.log_filters import LogFilters
from core.pagination import KeysetPage, keyset_page
from core.phone import for_humans
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


# 46elks' leg keys, with the heading people see.
LEG_COLUMNS = {"from": "From", "to": "To", "state": "Result", "duration": "Duration"}
PROVIDER_ONLY = frozenset({"cost", "price"})
LEG_STATES = {"success": "Answered", "busy": "Busy", "failed": "Not answered"}


def legs_table(legs: list[Any]) -> Table:
    """46elks' `legs` in words: known columns first, then any others it added."""
    dicts = [leg for leg in legs if isinstance(leg, dict)]
    # 46elks' cost of a leg is the reseller's, never shown on a tenant's page.
    extra = sorted({k for leg in dicts for k in leg} - set(LEG_COLUMNS) - PROVIDER_ONLY)
    keys = [c for c in LEG_COLUMNS if any(c in leg for leg in dicts)] + extra
    columns = [LEG_COLUMNS.get(k) or k.replace("_", " ").capitalize() for k in keys]
    return Table(columns=columns, rows=[[_leg_cell(k, leg.get(k)) for k in keys] for leg in dicts])


def _leg_cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if key in ("from", "to"):
        return for_humans(str(value))
    if key == "state":
        return LEG_STATES.get(str(value), str(value).capitalize())
    if key == "duration" and isinstance(value, int):
        return mmss(value)
    return _cell(value)


_GREETING_URL = re.compile(r"/media/greetings/([^/\s]+)/")


def action_sentences(actions: list[Any], recordings: list[Recording]) -> list[str]:
    """Each action of the call plan as it ran, as a sentence for people: no URLs, no keys.

    46elks reports `{"connect": "+46…", "result": "busy"}`, `{"play": url}`,
    `{"record": url}`, `{"hangup": "busy"}`… (the raw list stays on the call, for staff)."""
    voicemails = [r.duration for r in recordings if r.kind == Recording.Kind.VOICEMAIL]
    greetings = _greeting_names(actions)
    lines = []
    for action in actions:
        if not isinstance(action, dict) or not action:
            lines.append("A step 46elks reported without details.")
            continue
        result = str(action.get("result") or "")
        if "connect" in action:
            lines.append(_connect_sentence(str(action["connect"]), result))
        elif "play" in action:
            name = greetings.get(str(action["play"]))
            if name:
                lines.append(f"Played your voicemail greeting “{name}”.")
            elif "voicemail-greeting" in str(action["play"]):
                lines.append("Played the built-in voicemail greeting.")
            else:
                lines.append("Played a recorded message.")
        elif "record" in action:
            seconds = voicemails.pop(0) if voicemails else None
            lines.append(
                f"Recorded a voicemail ({seconds} s)." if seconds else "Recorded a voicemail."
            )
        elif "recordcall" in action:
            lines.append("Recorded the call.")
        elif "ivr" in action:
            lines.append(f"Asked the caller to press a key: they pressed {result or 'nothing'}.")
        elif "hangup" in action:
            busy = action["hangup"] == "busy"
            lines.append("Hung up with a busy tone." if busy else "Hung up.")
        else:
            lines.append("A step this dashboard does not describe (see the raw actions).")
    return lines


def _connect_sentence(to: str, result: str) -> str:
    who = for_humans(to.split(",")[0])
    if result == "success":
        return f"Connected to {who}."
    if result == "busy":
        return f"Rang {who}: busy."
    if result == "failed":
        return f"Rang {who}: nobody answered."
    return f"Rang {who}."


def _greeting_names(actions: list[Any]) -> dict[str, str]:
    """{play URL: greeting name} for the tenant's own greetings played (one query)."""
    urls: dict[str, str] = {}
    for action in actions:
        if isinstance(action, dict) and isinstance(action.get("play"), str):
            found = _GREETING_URL.search(action["play"])
            if found:
                urls[action["play"]] = found.group(1)
    if not urls:
        return {}
    names = dict(
        Greeting.objects.filter(public_token__in=urls.values()).values_list("public_token", "name")
    )
    return {url: names[token] for url, token in urls.items() if token in names}


def raw_actions(actions: list[Any]) -> str:
    """The actions as 46elks reported them, for staff, with callback tokens masked."""
    return redact_callback_tokens(json.dumps(actions, indent=2, ensure_ascii=False))


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

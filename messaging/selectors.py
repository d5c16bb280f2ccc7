"""Reads for the messaging pages: inbox, threads, the log and the opt-out ledger.

All of them run inside a tenant scope (the request's), so the default managers already filter
on the tenant. Lists are keyset-paginated and take a fixed number of queries per page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.log_filters import LogFilters
from core.pagination import KeysetPage, keyset_page
from messaging.contacts.selectors import contact_phones_named
from messaging.models import Conversation, Message, OptOut

PAGE_SIZE = 50
THREAD_SIZE = 50


# --- inbox ------------------------------------------------------------------------------------


def inbox_page(*, q: str = "", cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """Conversations, latest activity first; `q` matches number digits, message text or the
    name of the contact a conversation is with."""
    qs = Conversation.objects.all()
    q = q.strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        text = Exists(Message.objects.filter(conversation=OuterRef("pk"), body__icontains=q))
        match = Q(text) | Q(other__in=contact_phones_named(q))
        if digits:
            match |= Q(other__contains=digits) | Q(ours__contains=digits)
        qs = qs.filter(match)
    return keyset_page(qs, cursor=cursor, size=size, field="last_message_at")


def inbox_version() -> datetime | None:
    """The newest change to any conversation (served by the conversation_changes index)."""
    return Conversation.objects.order_by("-updated").values_list("updated", flat=True).first()


def inbox_changed_since(since: datetime) -> bool:
    return Conversation.objects.filter(updated__gt=since).exists()


# --- threads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadPage:
    messages: list[Message]  # oldest first, for reading top to bottom
    older_cursor: str | None
    is_latest: bool


def thread_page(
    *, conversation: Conversation, cursor: str | None, size: int = THREAD_SIZE
) -> ThreadPage:
    """The newest `size` messages of a conversation (or those before `cursor`), with images."""
    qs = (
        Message.objects.filter(conversation=conversation)
        .select_related("sender")
        .prefetch_related("images")
    )
    page = keyset_page(qs, cursor=cursor, size=size)
    return ThreadPage(
        messages=list(reversed(page.items)),
        older_cursor=page.next_cursor,
        is_latest=page.is_first,
    )


def thread_version(conversation: Conversation) -> datetime | None:
    return (
        Message.objects.filter(conversation=conversation)
        .order_by("-updated")
        .values_list("updated", flat=True)
        .first()
    )


def thread_changed_since(conversation: Conversation, since: datetime) -> bool:
    return Message.objects.filter(conversation=conversation, updated__gt=since).exists()


# --- the log ------------------------------------------------------------------------------------


S = Message.Source
# The log's "source" filter: who or what caused a message, as the tenant thinks of it.
LOG_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "manual": ("Manual", (S.DASHBOARD,)),
    "campaign": ("Campaign", (S.CAMPAIGN,)),
    "api": ("API", (S.API,)),
    "automatic": ("Automatic (replies, forwards)", (S.AUTOREPLY, S.FORWARD)),
    "inbound": ("Received", (S.INBOUND,)),
    "history": ("Imported from 46elks", (S.HISTORY,)),
}


@dataclass(frozen=True)
class MessageFilters(LogFilters):
    status: str = ""
    request: uuid.UUID | None = None
    source: str = ""  # a LOG_SOURCES key

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> MessageFilters:
        status = query.get("status", "")
        source = query.get("source", "")
        try:
            request = uuid.UUID(query.get("request", "")) if query.get("request") else None
        except ValueError:
            request = None
        return cls(
            **cls.common(query, Message.Direction.values),
            status=status if status in Message.Status.values else "",
            request=request,
            source=source if source in LOG_SOURCES else "",
        )

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        qs = super().apply(qs)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.request:
            qs = qs.filter(request_key=self.request)
        if self.source:
            qs = qs.filter(source__in=LOG_SOURCES[self.source][1])
        return qs


def log_queryset(filters: LogFilters) -> QuerySet[Message]:
    return filters.apply(Message.objects.all())


# A poll asks for changes since a little before the page was drawn: a report whose
# `updated` was taken just before the page's read but committed just after would otherwise
# be missed for good. So the page is drawn once or twice more after a change, never stale.
LOG_POLL_MARGIN = timedelta(seconds=5)


def log_changed_since(filters: MessageFilters, since: datetime) -> bool:
    """Has any message the filters show changed since `since`? (message_changes index)"""
    return log_queryset(filters).filter(updated__gt=since).exists()


# A report changes a message this long after it was sent, if ever; older pages stay still.
LOG_LIVE_FOR = timedelta(hours=24)


def log_settling(messages: list[Message], *, now: datetime | None = None) -> set[int]:
    """The ids of the messages (of a log page) whose status may still change by itself:
    queued or sending; unknown (the history sync settles it); accepted or sent while a
    delivery report is awaited (SMS that asked for one). Everything else is final."""
    horizon = (now or timezone.now()) - LOG_LIVE_FOR
    waiting = {Message.Status.QUEUED, Message.Status.SENDING, Message.Status.UNKNOWN}
    reported = {Message.Status.CREATED, Message.Status.SENT}
    return {
        m.pk
        for m in messages
        if m.direction == Message.Direction.OUT
        and m.created >= horizon
        and (
            m.status in waiting
            or (m.status in reported and m.delivery_report and m.kind == Message.Kind.SMS)
        )
    }


def log_page(*, filters: MessageFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    qs = log_queryset(filters).select_related("sender", "campaign_recipient__campaign")
    return keyset_page(qs, cursor=cursor, size=size)


# --- opt-outs -----------------------------------------------------------------------------------


def optout_page(*, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    qs = OptOut.objects.select_related("actor", "message")
    return keyset_page(qs, cursor=cursor, size=size)


def messages_per_number(*, number_ids: list[int], since: datetime) -> dict[int, int]:
    """{number id: messages since `since`}, in and out, in one grouped query (numbers' list)."""
    return dict(
        Message.objects.filter(number_id__in=number_ids, created__gte=since)
        .values_list("number_id")
        .annotate(n=Count("id"))
        .values_list("number_id", "n")
    )

"""Provider callbacks: store first (one INSERT), wake the processor cheaply, process in batches.

The request path never depends on the broker: it stores the raw event and answers. Waking
the worker is best effort (providers.wake: one drain per wake window), and the beat task
`providers.tasks.webhooks_replay` processes anything left pending for more than a minute.
Handlers are looked up in the provider-event registry (providers.events) by provider and
kind; each must be idempotent, because an event can be processed again after a crash.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from datetime import timedelta
from typing import Any

import redis
import requests
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope

from providers.events import PayloadError, handled_kinds, handler_for
from providers.models import WebhookEvent
from providers.wake import POLL_SECONDS, wake_processor, window_open

log = logging.getLogger(__name__)


def webhook_store(
    *,
    provider: str,
    kind: str,
    dedupe_key: str,
    payload: dict[str, object],
    raw: bytes = b"",
    tenant_id: int | None = None,
    number_id: int | None = None,
) -> bool:
    """Store a raw event in one INSERT; True when it is new, False for a replay.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING id` has the same syntax on PostgreSQL and
    SQLite (3.35+), and is one round trip whether or not the event is new. `payload` and
    `dedupe_key` must be storable (providers.callbacks.storable); `raw` is the body as received.
    """
    table = WebhookEvent._meta.db_table
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (provider, kind, dedupe_key, tenant_id, number_id, payload, "
        f"raw_body, status, attempts, error, received) VALUES (%s, %s, %s, %s, %s, "
        f"{json_param}, %s, %s, 0, '', %s) "
        "ON CONFLICT (provider, kind, dedupe_key) DO NOTHING RETURNING id"
    )
    params = [
        provider,
        kind,
        dedupe_key,
        tenant_id,
        number_id,
        json.dumps(payload),
        raw,
        WebhookEvent.Status.PENDING,
        timezone.now(),
    ]
    created = _execute_returns_row(sql, params)
    if created:
        transaction.on_commit(wake_processor)
    return created


def _execute_returns_row(sql: str, params: list[object]) -> bool:
    """Run the store's INSERT; on PostgreSQL as a prepared statement when configured.

    Django binds parameters client-side, so PostgreSQL parses and plans this INSERT on every
    callback; prepared once per connection, PostgreSQL's CPU per callback went from 0.35 to
    0.30 ms under load (docs/bench.md).
    WEBHOOK_PREPARED_INSERT=false for a transaction-mode pooler without prepared-statement
    support (PgBouncer before 1.21).
    """
    if connection.vendor != "postgresql" or not settings.WEBHOOK_PREPARED_INSERT:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None
    from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

    connection.ensure_connection()
    # Wrapped like Django's own cursors: query logging and database error translation apply.
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(_prepared_cursor_class()(connection.connection), connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding, prepared on first use (Django turns auto-preparing off)."""

        def execute(  # psycopg's signature; only `prepare` is forced
            self,
            query: Any,
            params: Any = None,
            *,
            prepare: bool | None = None,
            binary: bool | None = None,
        ) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


def webhooks_drain(
    *, older_than: timedelta | None = None, limit: int = 500, window: str | None = None
) -> int:
    """Process pending events in batches until none is left; returns how many were handled.

    With a `window` (see providers.wake) the drain keeps looking while that window is open
    and returns only after an empty look that began once it had closed, so every event stored
    during the window is seen. At `limit` it hands the rest to a new drain task.
    """
    done = 0
    while True:
        still_open = window is not None and window_open(window)
        batch = _claim_batch(older_than=older_than, size=100)
        for event_id in batch:
            webhook_process(event_id)
            done += 1
            if done >= limit:
                if older_than is None:
                    from providers.tasks import webhooks_drain as drain_task

                    drain_task.apply_async(kwargs={"window": window} if window else {})
                return done
        if batch:
            continue
        if not still_open:
            return done
        time.sleep(POLL_SECONDS)


def _claim_batch(*, older_than: timedelta | None, size: int) -> list[int]:
    kinds = handled_kinds()
    qs = WebhookEvent.objects.filter(_due(), status=WebhookEvent.Status.PENDING)
    if older_than is not None:
        qs = qs.filter(received__lt=timezone.now() - older_than)

    match = Q()
    for provider, kind in kinds:
        match |= Q(provider=provider, kind=kind)
    return list(qs.filter(match).order_by("received", "id").values_list("id", flat=True)[:size])


def _due() -> Q:
    """Pending events not waiting for a retry's time (see webhook_process)."""
    return Q(next_attempt__isnull=True) | Q(next_attempt__lte=timezone.now())


def webhook_process(event_id: int) -> None:
    """Run the handler for one event, at most once at a time, recording the outcome.

    The row lock (skip_locked) keeps two workers off the same event; the handler runs in the
    same transaction, so its writes and the event's new status commit together.
    A transient error (database, network: `transient_error`) leaves the event pending with a
    `next_attempt` after a growing delay, which the drains and the beat's replay honour; after
    WEBHOOK_RETRY_ATTEMPTS attempts, or on any other error, it fails and waits for staff.
    (If the connection itself is lost, nothing here can be saved: the event stays pending as
    it was and the replay takes it again.)
    """
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(_due(), pk=event_id, status=WebhookEvent.Status.PENDING)
            .first()
        )
        if event is None:
            return
        handler = handler_for(event.provider, event.kind)
        event.attempts += 1
        try:
            with transaction.atomic(), scope(tenant=event.tenant_id):
                handler(event)
        except PayloadError as exc:
            _fail(event, f"Invalid payload: {exc}")
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if transient_error(exc) and event.attempts < settings.WEBHOOK_RETRY_ATTEMPTS:
                log.warning("Webhook event %s: transient error, will retry: %s", event.pk, error)
                _retry_later(event, error)
            else:
                log.exception("Webhook event %s failed", event.pk)
                if transient_error(exc):
                    error = f"Gave up after {event.attempts} attempts: {error}"
                _fail(event, error)
            return
        event.status = WebhookEvent.Status.PROCESSED
        event.processed = timezone.now()
        event.error = ""
        event.next_attempt = None
        event.save(update_fields=["status", "processed", "error", "attempts", "next_attempt"])


def transient_error(exc: BaseException) -> bool:
    """Whether trying again later may succeed: a database connection or lock problem, or a
    provider/network error its client marks retryable. Looks through `raise ... from`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return True  # includes deadlocks, lock and statement timeouts, lost connections
        if isinstance(current, requests.ConnectionError | requests.Timeout):
            return True
        if isinstance(current, redis.ConnectionError | redis.TimeoutError):
            return True
        if getattr(current, "retryable", None) is True:  # ElksError, InfobipError
            return True
        current = current.__cause__
    return False


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th attempt: base * 2^(n-1), capped, with up to 25% jitter."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30)
    seconds = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * (1 + random.random() / 4))


def _retry_later(event: WebhookEvent, error: str) -> None:
    event.next_attempt = timezone.now() + retry_delay(event.attempts)
    event.error = error[:2000]
    event.save(update_fields=["error", "attempts", "next_attempt"])


def _fail(event: WebhookEvent, error: str) -> None:
    event.status = WebhookEvent.Status.FAILED
    event.error = error[:2000]
    event.next_attempt = None
    event.save(update_fields=["status", "error", "attempts", "next_attempt"])


def webhook_retry(*, event: WebhookEvent) -> None:
    """Staff: process a failed event (or one waiting for its retry) now; it keeps its payload
    and attempt count."""
    WebhookEvent.objects.filter(
        pk=event.pk, status__in=[WebhookEvent.Status.FAILED, WebhookEvent.Status.PENDING]
    ).update(status=WebhookEvent.Status.PENDING, error="", next_attempt=None)
    webhook_process(event.pk)

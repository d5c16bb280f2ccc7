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
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from providers.events import (
    BatchHandler,
    Failures,
    PayloadError,
    Refused,
    batch_handler_for,
    handled_kinds,
    handler_for,
)
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


# The drain's batch: doubled while batches come back full (a backlog builds), halved when
# they do not (a trickle: small batches keep each event's wait short), between these bounds.
BATCH_MIN = 20
BATCH_MAX = 500


def webhooks_drain(
    *, older_than: timedelta | None = None, limit: int = 5000, window: str | None = None
) -> int:
    """Process pending events in batches until none is left; returns how many were taken.

    With a `window` (see providers.wake) the drain keeps looking while that window is open
    and returns only after an empty look that began once it had closed, so every event stored
    during the window is seen. At `limit` it hands the rest to a new drain task.
    """
    done = 0
    size = BATCH_MIN
    while True:
        still_open = window is not None and window_open(window)
        taken = webhooks_process_batch(size=size, older_than=older_than)
        done += taken
        size = min(BATCH_MAX, size * 2) if taken == size else max(BATCH_MIN, size // 2)
        if done >= limit:
            if older_than is None:
                from providers.tasks import webhooks_drain as drain_task

                drain_task.apply_async(kwargs={"window": window} if window else {})
            return done
        if taken:
            continue
        if not still_open:
            return done
        time.sleep(POLL_SECONDS)


def webhooks_process_batch(*, size: int, older_than: timedelta | None = None) -> int:
    """Claim up to `size` due events and process them in one transaction; how many it took.

    The claim is FOR UPDATE SKIP LOCKED (PostgreSQL), so drains in several workers take
    disjoint batches without waiting on each other. Each kind's events go to its batch handler
    when it has one (set-based: one lookup per batch, bulk inserts); if that raises, its work
    is rolled back and the one-event handler runs per event in its own savepoint, so a
    poisoned event fails alone (with its reason; the payload stays) and the rest commit.
    """
    with transaction.atomic():
        claimed = WebhookEvent.objects.select_for_update(skip_locked=True).filter(
            _due(), _handled(), status=WebhookEvent.Status.PENDING
        )
        if older_than is not None:
            claimed = claimed.filter(received__lt=timezone.now() - older_than)
        events = list(claimed.order_by("received", "id")[:size])
        if not events:
            return 0
        outcome = _Outcome()
        for (provider, kind), group in _by_kind(events).items():
            batch = batch_handler_for(provider, kind)
            if batch is not None and _batch_run(batch, group, outcome):
                continue
            for event in group:
                _process_one(event, outcome)
        outcome.record(events)
    return len(events)


def _handled() -> Q:
    match = Q()
    for provider, kind in handled_kinds():
        match |= Q(provider=provider, kind=kind)
    return match


def _due() -> Q:
    """Pending events not waiting for a retry's time (see _process_one)."""
    return Q(next_attempt__isnull=True) | Q(next_attempt__lte=timezone.now())


def _by_kind(events: list[WebhookEvent]) -> dict[tuple[str, str], list[WebhookEvent]]:
    """The events per (provider, kind), each list in arrival order."""
    groups: dict[tuple[str, str], list[WebhookEvent]] = {}
    for event in events:
        groups.setdefault((event.provider, event.kind), []).append(event)
    return groups


class _Outcome:
    """What became of each event of a batch, written in a few statements at its end."""

    def __init__(self) -> None:
        self.failures = Failures()
        self.retries: dict[int, str] = {}

    def record(self, events: list[WebhookEvent]) -> None:
        now = timezone.now()
        failed, retries = self.failures.reasons, self.retries
        done = [e.pk for e in events if e.pk not in failed and e.pk not in retries]
        WebhookEvent.objects.filter(pk__in=done).update(
            status=WebhookEvent.Status.PROCESSED,
            processed=now,
            error="",
            next_attempt=None,
            attempts=F("attempts") + 1,
        )
        for event in events:
            if event.pk in failed:
                log.warning("Webhook event %s failed: %s", event.pk, failed[event.pk])
                WebhookEvent.objects.filter(pk=event.pk).update(
                    status=WebhookEvent.Status.FAILED,
                    error=failed[event.pk][:2000],
                    next_attempt=None,
                    attempts=F("attempts") + 1,
                )
            elif event.pk in retries:
                WebhookEvent.objects.filter(pk=event.pk).update(
                    error=retries[event.pk][:2000],
                    next_attempt=now + retry_delay(event.attempts + 1),
                    attempts=F("attempts") + 1,
                )


def _batch_run(batch: BatchHandler, group: list[WebhookEvent], outcome: _Outcome) -> bool:
    """Run a batch handler in a savepoint; False (nothing kept) when it raised."""
    refused = Failures()
    try:
        with transaction.atomic(), scopes_disabled():
            batch(group, refused)
    except Exception:
        log.warning(
            "A batch of %d %s:%s events raised; processing them one by one",
            len(group),
            group[0].provider,
            group[0].kind,
            exc_info=True,
        )
        return False
    outcome.failures.reasons.update(refused.reasons)
    return True


def _process_one(event: WebhookEvent, outcome: _Outcome) -> None:
    """The event's one-event handler in its own savepoint and tenant scope.

    A transient error (database, network: `transient_error`) leaves the event pending with a
    `next_attempt` after a growing delay, which the drains and the beat's replay honour; after
    WEBHOOK_RETRY_ATTEMPTS attempts, or on any other error, it fails and waits for staff.
    """
    handler = handler_for(event.provider, event.kind)
    try:
        with transaction.atomic(), scope(tenant=event.tenant_id):
            handler(event)
    except PayloadError as exc:
        outcome.failures.fail(event, f"Invalid payload: {exc}")
    except Refused as exc:
        outcome.failures.fail(event, str(exc))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        attempts = event.attempts + 1
        if transient_error(exc) and attempts < settings.WEBHOOK_RETRY_ATTEMPTS:
            log.warning("Webhook event %s: transient error, will retry: %s", event.pk, error)
            outcome.retries[event.pk] = error
        else:
            log.exception("Webhook event %s failed", event.pk)
            if transient_error(exc):
                error = f"Gave up after {attempts} attempts: {error}"
            outcome.failures.fail(event, error)


def webhook_process(event_id: int) -> None:
    """Process one event now (staff retry, tests), at most once at a time, recording the
    outcome; the row lock (skip_locked) keeps a drain off it meanwhile.
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
        outcome = _Outcome()
        _process_one(event, outcome)
        outcome.record([event])


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


def webhook_retry(*, event: WebhookEvent) -> None:
    """Staff: process a failed event (or one waiting for its retry) now; it keeps its payload
    and attempt count."""
    WebhookEvent.objects.filter(
        pk=event.pk, status__in=[WebhookEvent.Status.FAILED, WebhookEvent.Status.PENDING]
    ).update(status=WebhookEvent.Status.PENDING, error="", next_attempt=None)
    webhook_process(event.pk)

"""Provider callbacks: store first (one INSERT), wake the processor cheaply, process in batches.

The request path never depends on the broker: it stores the raw event and answers. Waking
the worker is best effort (at most one publish per `WEBHOOK_WAKE_SECONDS`), and the beat task
`providers.tasks.webhooks_replay` processes anything left pending for more than a minute.
Handlers are looked up in settings.WEBHOOK_HANDLERS by "provider:kind"; each must be
idempotent, because an event can be processed again after a crash.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_scopes import scope

from providers.models import WebhookEvent

log = logging.getLogger(__name__)

WAKE_KEY = "webhooks:wake"


class PayloadError(Exception):
    """The payload is missing or has a malformed field; the event fails with this reason."""


def webhook_store(
    *,
    provider: str,
    kind: str,
    dedupe_key: str,
    payload: dict[str, object],
    tenant_id: int | None = None,
    number_id: int | None = None,
) -> bool:
    """Store a raw event in one INSERT; True when it is new, False for a replay.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING id` has the same syntax on PostgreSQL and
    SQLite (3.35+), and is one round trip whether or not the event is new.
    """
    table = WebhookEvent._meta.db_table
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (provider, kind, dedupe_key, tenant_id, number_id, payload, "
        f"status, attempts, error, received) VALUES (%s, %s, %s, %s, %s, {json_param}, %s, 0, "
        "'', %s) ON CONFLICT (provider, kind, dedupe_key) DO NOTHING RETURNING id"
    )
    params = [
        provider,
        kind,
        dedupe_key,
        tenant_id,
        number_id,
        json.dumps(payload),
        WebhookEvent.Status.PENDING,
        timezone.now(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = cursor.fetchone() is not None
    if created:
        transaction.on_commit(wake_processor)
    return created


def wake_processor() -> None:
    """Publish one drain task per wake window; never raises (the beat is the safety net)."""
    try:
        if not cache.add(WAKE_KEY, 1, timeout=settings.WEBHOOK_WAKE_SECONDS):
            return
        from providers.tasks import webhooks_drain

        webhooks_drain.apply_async(retry=False)
    except Exception:  # broker or cache down: the event is stored; the beat picks it up
        log.warning("Could not wake the webhook processor", exc_info=True)


def handled_kinds() -> list[tuple[str, str]]:
    return [tuple(key.split(":", 1)) for key in settings.WEBHOOK_HANDLERS]  # type: ignore[misc]


def webhooks_drain(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Process pending events in batches until none is left; returns how many were handled.

    The wake flag is cleared *before* the last look, so an event stored after that look
    finds the flag free and publishes a new drain: none is stranded.
    """
    done = 0
    while True:
        if older_than is None:
            cache.delete(WAKE_KEY)
        batch = _claim_batch(older_than=older_than, size=100)
        if not batch:
            return done
        for event_id in batch:
            webhook_process(event_id)
            done += 1
            if done >= limit:
                return done


def _claim_batch(*, older_than: timedelta | None, size: int) -> list[int]:
    kinds = handled_kinds()
    qs = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING)
    if older_than is not None:
        qs = qs.filter(received__lt=timezone.now() - older_than)
    from django.db.models import Q

    match = Q()
    for provider, kind in kinds:
        match |= Q(provider=provider, kind=kind)
    return list(qs.filter(match).order_by("received", "id").values_list("id", flat=True)[:size])


def webhook_process(event_id: int) -> None:
    """Run the handler for one event, at most once at a time, recording the outcome.

    The row lock (skip_locked) keeps two workers off the same event; the handler runs in the
    same transaction, so its writes and the event's new status commit together.
    """
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, status=WebhookEvent.Status.PENDING)
            .first()
        )
        if event is None:
            return
        handler = import_string(settings.WEBHOOK_HANDLERS[f"{event.provider}:{event.kind}"])
        event.attempts += 1
        try:
            with transaction.atomic(), scope(tenant=event.tenant_id):
                handler(event)
        except PayloadError as exc:
            _fail(event, f"Invalid payload: {exc}")
            return
        except Exception as exc:
            log.exception("Webhook event %s failed", event.pk)
            _fail(event, f"{type(exc).__name__}: {exc}")
            return
        event.status = WebhookEvent.Status.PROCESSED
        event.processed = timezone.now()
        event.error = ""
        event.save(update_fields=["status", "processed", "error", "attempts"])


def _fail(event: WebhookEvent, error: str) -> None:
    event.status = WebhookEvent.Status.FAILED
    event.error = error[:2000]
    event.save(update_fields=["status", "error", "attempts"])


def webhook_retry(*, event: WebhookEvent) -> None:
    """Staff: put a failed event back in line; it keeps its payload and attempt count."""
    WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.FAILED).update(
        status=WebhookEvent.Status.PENDING, error=""
    )
    webhook_process(event.pk)


def require(payload: dict[str, object], *fields: str) -> list[str]:
    """The named fields as non-empty strings, or PayloadError naming the first missing one."""
    values = []
    for name in fields:
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PayloadError(f'missing field "{name}"')
        values.append(value.strip())
    return values

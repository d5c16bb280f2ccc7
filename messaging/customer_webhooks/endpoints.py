"""Event webhooks: endpoints that subscribe to events, the events emitted, and their posting.

Emitting (`events_emit`, `events_emit_many`) runs inside the transaction of the change it
reports and only records intent: one EventDelivery per subscribed active endpoint, found with
one query per call (per batch for the batch paths), inserted in one INSERT. Each row's `key`
names the change (`message.delivered:s00…29`), unique per endpoint, so a replayed provider
callback, a second drain of the same event or a retried task inserts nothing new.

A message sent through the API with a `whendelivered` URL gets 46elks' delivery-report shape
posted there for each report that moves it (sent, delivered, failed): an EventDelivery without
an endpoint, form-encoded, keyed per message and status.

Posting reuses the inbound-message machinery in services.py (claim, signing, SSRF-safe pinned
post, backoff, 24 h give-up, re-send); the 30 s beat `customer_webhooks_due` sweeps both.
Campaign recipients are not Messages: campaign sends emit nothing here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from calls.models import Call, Recording
from messaging.customer_webhooks.models import (
    EVENT_TEST,
    EVENT_WHENDELIVERED,
    Event,
    EventDelivery,
    WebhookEndpoint,
)
from messaging.customer_webhooks.services import (
    deliveries_sweep,
    delivery_claim,
    delivery_record,
    delivery_send,
    signed_post,
)
from messaging.models import Message, OptOut
from messaging.public_ids import message_public_id

EVENTS = [event.value for event in Event]
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Statuses a message's `whendelivered` URL hears about, as 46elks posts them.
REPORTED = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.FAILED)


@dataclass(frozen=True)
class Emit:
    """One change to tell subscribed endpoints about."""

    tenant_id: int
    event: str
    key: str
    payload: dict[str, object]


# --- emitting --------------------------------------------------------------------------------


def events_emit(*, tenant_id: int, event: str, key: str, payload: dict[str, object]) -> int:
    """Record `event` for each active endpoint of the tenant subscribed to it; no HTTP here.

    Call it in the transaction of the change. Returns how many deliveries were offered (the
    unique key drops those a replay offers again)."""
    return events_emit_many([Emit(tenant_id=tenant_id, event=event, key=key, payload=payload)])


def events_emit_many(emits: Sequence[Emit]) -> int:
    """events_emit for many changes: one query for the endpoints, one INSERT for the rows."""
    if not emits:
        return 0
    now = timezone.now()
    with scopes_disabled():
        # Read fresh on every call: an endpoint added, paused or removed in another process
        # counts from its commit on.
        endpoints = list(
            WebhookEndpoint.objects.filter(
                tenant_id__in={e.tenant_id for e in emits}, active=True
            ).only("pk", "tenant_id", "url", "events")
        )
        rows = [
            EventDelivery(
                tenant_id=emit.tenant_id,
                endpoint=endpoint,
                url=endpoint.url,
                event=emit.event,
                key=emit.key,
                payload=_envelope(emit, now),
                next_attempt=now,
                created=now,
            )
            for emit in emits
            for endpoint in endpoints
            if endpoint.tenant_id == emit.tenant_id and emit.event in endpoint.events
        ]
        if rows:
            EventDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _envelope(emit: Emit, now: datetime) -> dict[str, object]:
    return {"event": emit.event, "key": emit.key, "created": _time(now), "data": emit.payload}


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


# --- what each event carries (the tenant's price, never 46elks' cost or our tokens) --------


def message_payload(message: Message) -> dict[str, object]:
    payload: dict[str, object] = {
        "id": message_public_id(message),
        "kind": message.kind,
        "direction": "outgoing" if message.direction == Message.Direction.OUT else "incoming",
        "from": message.ours if message.direction == Message.Direction.OUT else message.other,
        "to": message.other if message.direction == Message.Direction.OUT else message.ours,
        "status": message.status,
        "parts": message.parts,
        "price": message.price,
        "created": _time(message.created),
        "sent": _time(message.sent_at),
        "delivered": _time(message.delivered_at),
        "failed": _time(message.failed_at),
    }
    if message.status == Message.Status.FAILED:
        payload["error"] = message.error
    return payload


def message_emit(*, message: Message, event: str) -> int:
    """message.sent / .delivered / .failed for an outgoing message; campaign sends excluded."""
    if message.direction != Message.Direction.OUT or message.source == Message.Source.CAMPAIGN:
        return 0
    return events_emit(
        tenant_id=message.tenant_id,
        event=event,
        key=f"{event}:{message_public_id(message)}",
        payload=message_payload(message),
    )


def reports_emit(moved: Iterable[tuple[Message, list[str]]]) -> int:
    """After delivery reports moved messages (their rows as now stored, and the statuses each
    passed through, in order): message.delivered / .failed to endpoints, and each status to
    the message's `whendelivered` URL. One INSERT per kind for the batch."""
    emits: list[Emit] = []
    reports: list[EventDelivery] = []
    now = timezone.now()
    for message, statuses in moved:
        if message.direction != Message.Direction.OUT:
            continue
        if message.source != Message.Source.CAMPAIGN:
            emits += [
                Emit(
                    tenant_id=message.tenant_id,
                    event=f"message.{status}",
                    key=f"message.{status}:{message_public_id(message)}",
                    payload=message_payload(message),
                )
                for status in statuses
                if status in (Message.Status.DELIVERED, Message.Status.FAILED)
            ]
        if message.whendelivered:
            reports += [
                _whendelivered(message, status, now) for status in statuses if status in REPORTED
            ]
    if reports:
        with scopes_disabled():
            EventDelivery.objects.bulk_create(reports, ignore_conflicts=True)
    return events_emit_many(emits) + len(reports)


def _whendelivered(message: Message, status: str, now: datetime) -> EventDelivery:
    """46elks' delivery report: `id`, `status` and, when delivered, `delivered` (UTC)."""
    public_id = message_public_id(message)
    payload: dict[str, object] = {"id": public_id, "status": status}
    if status == Message.Status.DELIVERED and message.delivered_at:
        payload["delivered"] = message.delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return EventDelivery(
        tenant_id=message.tenant_id,
        endpoint=None,
        url=message.whendelivered,
        event=EVENT_WHENDELIVERED,
        key=f"{EVENT_WHENDELIVERED}:{public_id}:{status}",
        payload=payload,
        next_attempt=now,
        created=now,
    )


def call_payload(call: Call) -> dict[str, object]:
    incoming = call.direction == Call.Direction.IN
    return {
        "id": call.pk,
        "direction": "incoming" if incoming else "outgoing",
        "from": call.other if incoming else call.ours,
        "to": call.ours if incoming else call.other,
        "state": call.state,
        "created": _time(call.created),
        "start": _time(call.start),
        "duration": call.duration,
        "price": call.price,
    }


def call_completed_emit(*, call: Call) -> int:
    return events_emit(
        tenant_id=call.tenant_id,
        event=Event.CALL_COMPLETED,
        key=f"{Event.CALL_COMPLETED}:{call.pk}",
        payload=call_payload(call),
    )


def recording_payload(recording: Recording) -> dict[str, object]:
    call = recording.call
    payload: dict[str, object] = {
        "id": recording.pk,
        "call_id": recording.call_id,
        "kind": recording.kind,
        "duration": recording.duration,
        "created": _time(recording.created),
    }
    if call is not None:
        incoming = call.direction == Call.Direction.IN
        payload["from"] = call.other if incoming else call.ours
        payload["to"] = call.ours if incoming else call.other
    if recording.downloaded:
        payload["size"] = recording.size
    return payload


def recording_emit(*, recording: Recording, event: str) -> int:
    """voicemail.received (the voicemail's callback) or recording.ready (its audio is here)."""
    return events_emit(
        tenant_id=recording.tenant_id,
        event=event,
        key=f"{event}:{recording.pk}",
        payload=recording_payload(recording),
    )


def optout_emit(*, entry: OptOut) -> int:
    """optout.changed for a ledger entry that changed the number's state."""
    return events_emit(
        tenant_id=entry.tenant_id,
        event=Event.OPTOUT_CHANGED,
        key=f"{Event.OPTOUT_CHANGED}:{entry.pk}",
        payload={
            "phone": entry.phone,
            "opted_out": entry.kind == OptOut.Kind.OUT,
            "word": entry.word,
            "message_id": message_public_id(entry.message) if entry.message else None,
            "by_user": entry.actor_id is not None,
            "created": _time(entry.created),
        },
    )


# --- endpoints (owners, audited) ----------------------------------------------------------


def endpoint_add(
    *,
    tenant: Tenant,
    url: str,
    events: list[str],
    description: str = "",
    actor: User | None,
    request: HttpRequest | None = None,
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant,
            url=url,
            events=_known(events),
            description=description,
            created_by=actor if actor and actor.is_authenticated else None,
        )
        audit_record(
            action=AuditEvent.Action.WEBHOOK_ENDPOINT_ADDED,
            actor=actor,
            tenant=tenant,
            request=request,
            endpoint=endpoint.pk,
            url=url,
            events=endpoint.events,
        )
    return endpoint


def endpoint_change(
    *,
    endpoint: WebhookEndpoint,
    actor: User | None,
    request: HttpRequest | None = None,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what was given; audited with the fields that changed (nothing: no audit)."""
    wanted: dict[str, object] = {
        "url": url,
        "events": _known(events) if events is not None else None,
        "description": description,
        "active": active,
    }
    changed = {
        name: value
        for name, value in wanted.items()
        if value is not None and getattr(endpoint, name) != value
    }
    if not changed:
        return endpoint
    with transaction.atomic():
        for name, value in changed.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=list(changed))
        audit_record(
            action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGED,
            actor=actor,
            tenant=endpoint.tenant,
            request=request,
            endpoint=endpoint.pk,
            **changed,
        )
    return endpoint


def endpoint_remove(
    *, endpoint: WebhookEndpoint, actor: User | None, request: HttpRequest | None = None
) -> None:
    """Delete the endpoint and its delivery log (pending deliveries are not posted)."""
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.WEBHOOK_ENDPOINT_REMOVED,
            actor=actor,
            tenant=endpoint.tenant,
            request=request,
            endpoint=endpoint.pk,
            url=endpoint.url,
        )
        endpoint.delete()


def endpoint_test(*, endpoint: WebhookEndpoint) -> EventDelivery:
    """Post a `webhook.test` event to the endpoint now (logged and retried like any)."""
    now = timezone.now()
    test = Emit(
        tenant_id=endpoint.tenant_id,
        event=EVENT_TEST,
        key=f"{EVENT_TEST}:{uuid.uuid4()}",  # every click is a new event
        payload={"endpoint_id": endpoint.pk, "description": endpoint.description},
    )
    delivery = EventDelivery.objects.create(
        tenant_id=endpoint.tenant_id,
        endpoint=endpoint,
        url=endpoint.url,
        event=test.event,
        key=test.key,
        payload=_envelope(test, now),
        next_attempt=now,
        created=now,
    )
    delivery_send(delivery=delivery, now=now)
    return delivery


def _known(events: Iterable[str]) -> list[str]:
    """The subscribable names among `events`, in the documented order."""
    wanted = set(events)
    return [name for name in EVENTS if name in wanted]


# --- posting ---------------------------------------------------------------------------------


def event_deliveries_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Post every due event delivery once (oldest due first); returns the attempts made."""
    moment = now or timezone.now()
    with scopes_disabled():
        return deliveries_sweep(
            rows=EventDelivery.objects.select_related("endpoint"),
            now=moment,
            limit=limit,
            claim=lambda pk: delivery_claim(model=EventDelivery, pk=pk, now=moment),
            handle=lambda delivery: event_delivery_handle(delivery=delivery, now=moment),
        )


def event_delivery_handle(*, delivery: EventDelivery, now: datetime) -> bool:
    """One claimed event delivery: give up on a paused or changed endpoint, or post it."""
    endpoint = delivery.endpoint
    stop = ""
    if delivery.endpoint_id is not None and endpoint is not None:
        if not endpoint.active:
            stop = "The endpoint is paused."
        elif endpoint.url != delivery.url:
            stop = "The endpoint no longer posts to this URL."
    if stop:
        delivery_record(delivery=delivery, now=now, code=None, error=stop, final=True)
        return False
    if delivery.endpoint_id is None:
        body = urlencode({k: str(v) for k, v in delivery.payload.items()}).encode()
        content_type = FORM
    else:
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        content_type = JSON
    code, error = signed_post(
        tenant_id=delivery.tenant_id,
        url=delivery.url,
        body=body,
        content_type=content_type,
        now=now,
        unsigned_ok=delivery.endpoint_id is None,  # whendelivered: 46elks' receivers
    )
    delivery_record(delivery=delivery, now=now, code=code, error=error)
    return True

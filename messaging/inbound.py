"""Handlers for stored 46elks events (see providers.services): inbound SMS/MMS, reports.

Each runs inside the event's transaction and tenant scope, and is idempotent: a message is
keyed on its 46elks id, so processing an event twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Tenant
from messaging import customer_webhooks
from messaging.models import Message, MessageImage, OptOut
from messaging.services import (
    SendError,
    conversation_touch,
    delivery_report_apply,
    optout_record,
    settings_for,
    sms_queue,
)
from numbers.models import PhoneNumber
from providers.models import WebhookEvent
from providers.services import PayloadError, require

log = logging.getLogger(__name__)

REPORT_STATUSES = {"sent", "delivered", "failed"}


def _when(value: object) -> datetime:
    """46elks timestamps are UTC, mostly without a zone; a bad one is a payload error."""
    if not value:
        return timezone.now()
    parsed = parse_datetime(str(value).replace(" ", "T"))
    if parsed is None:
        raise PayloadError(f'malformed "created": {value!r}')
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _number_of(event: WebhookEvent) -> PhoneNumber:
    if event.number_id is None or event.tenant_id is None:
        raise PayloadError("the event is not tied to a number")
    return PhoneNumber.objects.select_related("tenant").get(pk=event.number_id)


def _inbound(event: WebhookEvent, kind: str) -> Message | None:
    payload = event.payload
    elks_id, sender, to = require(payload, "id", "from", "to")
    body = payload.get("message") or ""
    if not isinstance(body, str):
        raise PayloadError('malformed "message"')
    created = _when(payload.get("created"))
    number = _number_of(event)
    if Message.objects.filter(elks_id=elks_id).exists():
        return None  # processed before: nothing more to do
    message = Message.objects.create(
        tenant_id=event.tenant_id,
        kind=kind,
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        source=Message.Source.INBOUND,
        number=number,
        ours=number.number or to,
        other=sender,
        body=body,
        elks_id=elks_id,
        created=created,
    )
    conversation_touch(message)
    _stop_words(number.tenant, message)
    if number.is_routable:
        _forward(number, message)
        customer_webhooks.deliveries_enqueue(message=message)
    if number.sms_autoreply_enabled and kind == Message.Kind.SMS and number.is_routable:
        # 46elks sent the reply itself (the callback's answer); record it in the thread.
        reply = Message.objects.create(
            tenant_id=event.tenant_id,
            direction=Message.Direction.OUT,
            status=Message.Status.SENT,
            source=Message.Source.AUTOREPLY,
            number=number,
            ours=message.ours,
            other=sender,
            body=number.sms_autoreply_text,
            sent_at=timezone.now(),
        )
        conversation_touch(reply)
    return message


def _stop_words(tenant: Tenant, message: Message) -> None:
    word = message.body.strip().upper().rstrip(".!")
    prefs = settings_for(tenant)
    if word in prefs.stop_set:
        optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.OUT, message=message, word=word
        )
    elif word in prefs.start_set:
        optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.IN, message=message, word=word
        )


def _forward(number: PhoneNumber, message: Message) -> None:
    """Forward to a phone as an SMS from the same number, charged to the tenant.

    Never forwards a message that came from a number on this platform: two numbers that
    forward to each other would otherwise bounce a message forever.
    """
    target = number.sms_forward_to
    if not target or not number.has_sms:
        return
    if PhoneNumber.objects.model._base_manager.filter(
        number=message.other, status=PhoneNumber.Status.ACTIVE
    ).exists():
        log.info("Not forwarding %s: its sender is a platform number", message.pk)
        return
    text = f"From {message.other}: {message.body}" if message.body else f"From {message.other}"
    try:
        sms_queue(
            tenant=number.tenant,
            sender=number.number,
            recipients=[target],
            body=text[:1500],
            # The forward is keyed on the inbound message: reprocessing cannot forward twice.
            request_key=uuid.uuid5(uuid.NAMESPACE_URL, f"forward:{message.elks_id}"),
            actor=None,
            source=Message.Source.FORWARD,
        )
    except SendError as exc:
        log.warning("Forward of message %s refused: %s", message.pk, exc)


def inbound_sms(event: WebhookEvent) -> None:
    _inbound(event, Message.Kind.SMS)


def inbound_mms(event: WebhookEvent) -> None:
    message = _inbound(event, Message.Kind.MMS)
    if message is None:
        return
    urls = [
        v
        for k, v in sorted(event.payload.items())
        if k.startswith("image") and isinstance(v, str) and v
    ]
    for url in urls:
        MessageImage.objects.create(tenant_id=event.tenant_id, message=message, source_url=url)
    if urls:
        from django.db import transaction

        from messaging.tasks import mms_images_fetch

        tenant_id, message_id = event.tenant_id, message.pk
        transaction.on_commit(
            lambda: _safe_delay(mms_images_fetch, tenant_id=tenant_id, message_id=message_id)
        )


def _safe_delay(task, **kwargs) -> None:  # type: ignore[no-untyped-def]
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except Exception:
        log.warning("Could not enqueue %s; the image sweep fetches it", task.name, exc_info=True)


def delivery_report(event: WebhookEvent) -> None:
    payload = event.payload
    elks_id, status = require(payload, "id", "status")
    if status not in REPORT_STATUSES:
        raise PayloadError(f'unknown status "{status}"')
    token = payload.get("_token")
    message = Message.objects.filter(callback_token=token).first() if token else None
    if message is None or (message.elks_id and message.elks_id != elks_id):
        raise PayloadError("the report matches no message sent by this dashboard")
    if not message.elks_id:
        # The report beat the send's own answer (or that answer was lost).
        Message.objects.filter(pk=message.pk, elks_id=None).update(elks_id=elks_id)
    delivered = _when(payload.get("delivered")) if payload.get("delivered") else None
    delivery_report_apply(message=message, status=status, delivered=delivered)

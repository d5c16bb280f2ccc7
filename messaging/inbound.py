"""Handlers for stored 46elks events (see providers.services): inbound SMS/MMS, reports.

Each runs inside the event's transaction and tenant scope, and is idempotent: a message is
keyed on its 46elks id, so processing an event twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from accounts.models import Tenant
from core.tasks import publish
from messaging.customer_webhooks import services as customer_webhooks
from messaging.models import Message, MessageImage, OptOut
from messaging.services import (
    SendError,
    conversation_touch,
    delivery_report_apply,
    opted_out,
    optout_blocked,
    optout_record,
    settings_for,
    sms_queue,
)
from numbers.models import PhoneNumber
from providers.elks.callbacks import DeliveryReport, InboundMms, InboundSms
from providers.elks.ids import image_ref_from_callback
from providers.events import PayloadError
from providers.models import WebhookEvent

log = logging.getLogger(__name__)


def _created(event: WebhookEvent, sms: InboundSms) -> datetime:
    """When the message was sent; a bad timestamp must not lose the message.

    Unreadable: the time we received it. The original text stays in the stored event.
    """
    if sms.created is None:
        if sms.created_text:
            log.warning(
                "Event %s: unreadable created %r; using the time received",
                event.pk,
                sms.created_text,
            )
        return event.received
    return sms.created


def _number_of(event: WebhookEvent) -> PhoneNumber:
    if event.number_id is None or event.tenant_id is None:
        raise PayloadError("the event is not tied to a number")
    return PhoneNumber.objects.select_related("tenant").get(pk=event.number_id)


def _inbound(event: WebhookEvent, kind: str, sms: InboundSms) -> Message | None:
    created = _created(event, sms)
    number = _number_of(event)
    if Message.objects.filter(elks_id=sms.id).exists():
        return None  # processed before: nothing more to do
    message = Message.objects.create(
        tenant_id=event.tenant_id,
        kind=kind,
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        source=Message.Source.INBOUND,
        number=number,
        ours=number.number or sms.to,
        other=sms.from_,
        body=sms.message,
        elks_id=sms.id,
        created=created,
    )
    conversation_touch(message)
    stop = _stop_words(number.tenant, message)
    if number.is_routable:
        _forward(number, message)
        customer_webhooks.deliveries_enqueue(message=message)
        _reply(number, message, stop)
    return message


def _stop_words(tenant: Tenant, message: Message) -> OptOut | None:
    """Record a stop or start word in the ledger; the opt-out entry when this is a stop."""
    word = message.body.strip().upper().rstrip(".!")
    prefs = settings_for(tenant)
    if word in prefs.stop_set:
        was_out = message.other in opted_out(tenant, [message.other])
        entry = optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.OUT, message=message, word=word
        )
        # Only the STOP that opts someone out is confirmed; a repeated one gets nothing.
        return None if was_out else entry
    if word in prefs.start_set:
        optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.IN, message=message, word=word
        )
    return None


def _reply(number: PhoneNumber, message: Message, stop: OptOut | None) -> None:
    """The automatic answer to an inbound SMS: the tenant's STOP confirmation or auto-reply.

    Sent through sms_queue like any message, so the one opt-out rule applies (an opted-out
    sender gets nothing), the reply has a cost and delivery reports, and it is filed in the
    sender's conversation. Keyed on the inbound message: reprocessing cannot reply twice.
    """
    if message.kind != Message.Kind.SMS or not number.has_sms:
        return
    if not message.other.startswith("+") or _from_platform_number(message):
        return  # a sender name cannot be answered; two auto-replying numbers would loop
    if stop is not None:
        text = settings_for(number.tenant).stop_reply.strip()
    elif number.sms_autoreply_enabled:
        text = number.sms_autoreply_text.strip()
    else:
        return
    if not text or optout_blocked(
        tenant=number.tenant,
        phones=[message.other],
        source=Message.Source.AUTOREPLY,
        confirming=stop,
    ):
        return  # nothing to say, or the sender opted out (a repeated STOP included)
    try:
        sms_queue(
            tenant=number.tenant,
            sender=number.number,
            recipients=[message.other],
            body=text,
            request_key=uuid.uuid5(uuid.NAMESPACE_URL, f"reply:{message.elks_id}"),
            actor=None,
            source=Message.Source.AUTOREPLY,
            # In the sender's thread; the inbox keeps showing what the sender wrote.
            conversation=message.conversation,
            confirming=stop,
        )
    except SendError as exc:
        log.warning("Automatic reply to message %s refused: %s", message.pk, exc)


def _from_platform_number(message: Message) -> bool:
    return PhoneNumber.objects.model._base_manager.filter(
        number=message.other, status=PhoneNumber.Status.ACTIVE
    ).exists()


def _forward(number: PhoneNumber, message: Message) -> None:
    """Forward to a phone as an SMS from the same number, charged to the tenant.

    Never forwards a message that came from a number on this platform: two numbers that
    forward to each other would otherwise bounce a message forever.
    """
    target = number.sms_forward_to
    if not target or not number.has_sms:
        return
    if _from_platform_number(message):
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
            # Filed in the customer's thread: never a conversation (or reply target) of its own.
            conversation=message.conversation,
        )
    except SendError as exc:
        log.warning("Forward of message %s refused: %s", message.pk, exc)


def inbound_sms(event: WebhookEvent) -> None:
    _inbound(event, Message.Kind.SMS, InboundSms.from_form(event.payload))


def inbound_mms(event: WebhookEvent) -> None:
    mms = InboundMms.from_form(event.payload)
    message = _inbound(event, Message.Kind.MMS, mms)
    if message is None:
        return
    urls = mms.images
    for url in urls:
        # Only the image id is kept from the URL; without one, the fetch asks 46elks for the
        # MMS's image list. source_url is for reference and is never requested.
        ref = image_ref_from_callback(url)
        MessageImage.objects.create(
            tenant_id=event.tenant_id,
            message=message,
            source_url=url[:500],
            elks_image_id=ref.id if ref else "",
            file_type=ref.ext if ref else "",
        )
    if urls:
        from messaging.tasks import mms_images_fetch

        publish(mms_images_fetch, tenant_id=event.tenant_id, message_id=message.pk)  # or the sweep


def delivery_report(event: WebhookEvent) -> None:
    report = DeliveryReport.from_form(event.payload)
    token = event.payload.get("_token")  # ours: the message's callback token, from the URL
    message = Message.objects.filter(callback_token=token).first() if token else None
    if message is None or (message.elks_id and message.elks_id != report.id):
        raise PayloadError("the report matches no message sent by this dashboard")
    if not message.elks_id:
        # The report beat the send's own answer (or that answer was lost).
        Message.objects.filter(pk=message.pk, elks_id=None).update(elks_id=report.id)
    delivered = None
    if report.delivered_given:
        # Unreadable: the time the report arrived (the stored event keeps the original text).
        delivered = report.delivered or event.received
    delivery_report_apply(message=message, status=report.status, delivered=delivered)

"""Handlers for stored 46elks events (see providers.services): inbound SMS/MMS, reports.

Each runs inside the event's transaction and tenant scope, and is idempotent: a message is
keyed on its 46elks id, so processing an event twice changes nothing the second time.

Inbound SMS and delivery reports are handled in batches (`inbound_sms_batch`,
`delivery_reports_batch`): the lookups made once per batch (`Lookups`) and the rows inserted
in bulk; their one-event handlers are a batch of one. Inbound MMS (an image fetch each) go one
by one through `_inbound`, which decides what happens to a message with the same `_decide`
(stop words, forward, automatic reply) and `Lookups`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Tenant
from billing.ledger.bulk import NewUsage
from core.tasks import publish
from messaging.customer_webhooks import services as customer_webhooks
from messaging.customer_webhooks.endpoints import reports_emit
from messaging.models import Conversation, Message, MessageImage, MessagingSettings, OptOut
from messaging.rating import inbound_price_many, inbound_rate_many, message_rate
from messaging.services import (
    AutomaticSend,
    automatic_sends_queue,
    conversation_touch,
    conversations_advance,
    conversations_file,
    opted_out,
    optout_record,
    settings_for,
)
from numbers.models import PhoneNumber
from providers.elks.callbacks import DeliveryReport, InboundMms, InboundSms
from providers.elks.ids import image_ref_from_callback
from providers.events import Failures, PayloadError, one_of_batch
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


class Lookups:
    """What deciding about inbound messages reads, asked once: per batch, or per event.

    `opted_out` answers from the ledger as of the batch's start plus the entries the batch
    itself recorded (`optout_noted`), so a STOP earlier in a batch blocks a later reply.
    """

    def __init__(self, messages: list[Message] | None = None) -> None:
        self._settings: dict[int, MessagingSettings] = {}
        self._platform: set[str] | None = None
        self._out: dict[tuple[int, str], bool] = {}
        if messages:
            self._platform = set(
                PhoneNumber.objects.model._base_manager.filter(
                    number__in={m.other for m in messages}, status=PhoneNumber.Status.ACTIVE
                ).values_list("number", flat=True)
            )
            by_tenant: dict[int, set[str]] = {}
            for m in messages:
                by_tenant.setdefault(m.tenant_id, set()).add(m.other)
            for tenant_id, phones in by_tenant.items():
                out = opted_out(tenant_id, phones)
                self._out.update({(tenant_id, p): p in out for p in phones})
            for prefs in MessagingSettings.objects.filter(tenant_id__in=by_tenant):
                self._settings[prefs.tenant_id] = prefs

    def settings(self, tenant: Tenant) -> MessagingSettings:
        if tenant.pk not in self._settings:
            self._settings[tenant.pk] = settings_for(tenant)
        return self._settings[tenant.pk]

    def from_platform(self, phone: str) -> bool:
        if self._platform is None:
            return PhoneNumber.objects.model._base_manager.filter(
                number=phone, status=PhoneNumber.Status.ACTIVE
            ).exists()
        return phone in self._platform

    def opted_out(self, tenant: Tenant, phone: str) -> bool:
        key = (tenant.pk, phone)
        if key not in self._out:
            self._out[key] = phone in opted_out(tenant, [phone])
        return self._out[key]

    def optout_noted(self, tenant: Tenant, phone: str, kind: str) -> None:
        self._out[(tenant.pk, phone)] = kind == OptOut.Kind.OUT


def _number_of(event: WebhookEvent) -> PhoneNumber:
    if event.number_id is None or event.tenant_id is None:
        raise PayloadError("the event is not tied to a number")
    return PhoneNumber.objects.select_related("tenant").get(pk=event.number_id)


def _message_for(event: WebhookEvent, kind: str, sms: InboundSms, number: PhoneNumber) -> Message:
    return Message(
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
        created=_created(event, sms),
    )


def _inbound(event: WebhookEvent, kind: str, sms: InboundSms) -> Message | None:
    number = _number_of(event)
    if Message.objects.filter(elks_id=sms.id).exists():
        return None  # processed before: nothing more to do
    message = _message_for(event, kind, sms, number)
    message.save(force_insert=True)
    message_rate(message=message, cost=None)  # in the event's transaction
    conversation_touch(message)
    lookups = Lookups()
    automatic_sends_queue(_decide(number, message, lookups), lookups=lookups)
    if number.is_routable:
        customer_webhooks.deliveries_enqueue(message=message)
    return message


def _decide(number: PhoneNumber, message: Message, lookups: Lookups) -> list[AutomaticSend]:
    """After a message is stored: the ledger's stop words; what to send automatically (the
    forward, the automatic reply), for automatic_sends_queue."""
    stop = _stop_words(number.tenant, message, lookups)
    if not number.is_routable:
        return []
    sends = [_forward(number, message, lookups), _reply(number, message, stop, lookups)]
    return [send for send in sends if send is not None]


def inbound_sms_batch(events: list[WebhookEvent], failures: Failures) -> None:
    """inbound_sms for many events: one lookup each for numbers, known ids, conversations,
    settings, opt-outs and platform numbers; messages and customer-webhook deliveries
    inserted in bulk; then each message's decisions in arrival order."""
    parsed: list[tuple[WebhookEvent, InboundSms]] = []
    for event in events:
        try:
            if event.number_id is None or event.tenant_id is None:
                raise PayloadError("the event is not tied to a number")
            parsed.append((event, InboundSms.from_form(event.payload)))
        except PayloadError as exc:
            failures.fail(event, f"Invalid payload: {exc}")
    numbers = PhoneNumber.objects.select_related("tenant").in_bulk(
        {event.number_id for event, _ in parsed}
    )
    known = set(
        Message.objects.filter(elks_id__in=[sms.id for _, sms in parsed]).values_list(
            "elks_id", flat=True
        )
    )
    fresh: list[Message] = []
    for event, sms in parsed:
        number = numbers.get(event.number_id or 0)
        if number is None or number.tenant_id != event.tenant_id:  # as the scoped get
            failures.fail(event, "DoesNotExist: PhoneNumber matching query does not exist.")
        elif sms.id not in known:  # else processed before (or twice in this batch): nothing
            known.add(sms.id)
            fresh.append(_message_for(event, Message.Kind.SMS, sms, number))
    if not fresh:
        return
    conversations_file(fresh)
    # Rated in the batch's transaction: prices set before the INSERT, entries appended in
    # bulk after it (the rows are new, so their sources are), one Rater for the batch.
    rating = NewUsage()
    inbound_price_many(fresh, batch=rating)
    Message.objects.bulk_create(fresh)
    inbound_rate_many(fresh, batch=rating)
    conversations_advance(fresh)
    customer_webhooks.deliveries_enqueue_many(
        messages=[m for m in fresh if m.number is not None and m.number.is_routable]
    )
    lookups = Lookups(fresh)
    sends: list[AutomaticSend] = []
    for message in fresh:
        assert message.number is not None  # set from `numbers` above
        sends += _decide(message.number, message, lookups)
    automatic_sends_queue(sends, lookups=lookups)


def _stop_words(tenant: Tenant, message: Message, lookups: Lookups) -> OptOut | None:
    """Record a stop or start word in the ledger; the opt-out entry when this is a stop."""
    word = message.body.strip().upper().rstrip(".!")
    prefs = lookups.settings(tenant)
    if word in prefs.stop_set:
        was_out = lookups.opted_out(tenant, message.other)
        entry = optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.OUT, message=message, word=word
        )
        lookups.optout_noted(tenant, message.other, OptOut.Kind.OUT)
        # Only the STOP that opts someone out is confirmed; a repeated one gets nothing.
        return None if was_out else entry
    if word in prefs.start_set:
        optout_record(
            tenant=tenant, phone=message.other, kind=OptOut.Kind.IN, message=message, word=word
        )
        lookups.optout_noted(tenant, message.other, OptOut.Kind.IN)
    return None


def _reply(
    number: PhoneNumber, message: Message, stop: OptOut | None, lookups: Lookups
) -> AutomaticSend | None:
    """The automatic answer to an inbound SMS: the tenant's STOP confirmation or auto-reply.

    Queued like any message, so the reply has a cost and delivery reports, and it is filed in
    the sender's conversation. Keyed on the inbound message: reprocessing cannot reply twice.
    """
    if message.kind != Message.Kind.SMS or not number.has_sms:
        return None
    if not message.other.startswith("+") or lookups.from_platform(message.other):
        return None  # a sender name cannot be answered; two auto-replying numbers would loop
    if stop is not None:
        text = lookups.settings(number.tenant).stop_reply.strip()
    elif number.sms_autoreply_enabled:
        text = number.sms_autoreply_text.strip()
    else:
        return None
    # The one opt-out rule (services.optout_blocked), read from the lookups: an opted-out
    # sender gets nothing, except the confirmation of the STOP just recorded.
    if not text or (stop is None and lookups.opted_out(number.tenant, message.other)):
        return None  # nothing to say, or the sender opted out (a repeated STOP included)
    return AutomaticSend(
        number=number,
        to=message.other,
        body=text,
        source=Message.Source.AUTOREPLY,
        request_key=uuid.uuid5(uuid.NAMESPACE_URL, f"reply:{message.elks_id}"),
        # In the sender's thread; the inbox keeps showing what the sender wrote.
        conversation_id=message.conversation_id,
    )


def _forward(number: PhoneNumber, message: Message, lookups: Lookups) -> AutomaticSend | None:
    """Forward to a phone as an SMS from the same number, charged to the tenant (a forward
    goes to the tenant's own phone: the opt-out rule does not apply).

    Never forwards a message that came from a number on this platform: two numbers that
    forward to each other would otherwise bounce a message forever.
    """
    target = number.sms_forward_to
    if not target or not number.has_sms:
        return None
    if lookups.from_platform(message.other):
        log.info("Not forwarding %s: its sender is a platform number", message.pk)
        return None
    text = f"From {message.other}: {message.body}" if message.body else f"From {message.other}"
    return AutomaticSend(
        number=number,
        to=target,
        body=text[:1500],
        source=Message.Source.FORWARD,
        # The forward is keyed on the inbound message: reprocessing cannot forward twice.
        request_key=uuid.uuid5(uuid.NAMESPACE_URL, f"forward:{message.elks_id}"),
        # Filed in the customer's thread: never a conversation (or reply target) of its own.
        conversation_id=message.conversation_id,
    )


def inbound_sms(event: WebhookEvent) -> None:
    one_of_batch(inbound_sms_batch, event)


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
    one_of_batch(delivery_reports_batch, event)


NO_MESSAGE = "the report matches no message sent by this dashboard"


def delivery_reports_batch(events: list[WebhookEvent], failures: Failures) -> None:
    """delivery_report for many events: one lookup for their messages, then one UPDATE per
    message with what its reports, applied in arrival order, would have left."""
    parsed: list[tuple[WebhookEvent, DeliveryReport]] = []
    for event in events:
        try:
            parsed.append((event, DeliveryReport.from_form(event.payload)))
        except PayloadError as exc:
            failures.fail(event, f"Invalid payload: {exc}")
    tokens = {str(event.payload.get("_token") or "") for event, _ in parsed} - {""}
    messages = {m.callback_token: m for m in Message.objects.filter(callback_token__in=tokens)}
    moves: dict[int, _Moves] = {}
    for event, report in parsed:
        message = messages.get(str(event.payload.get("_token") or ""))
        if (
            message is None
            or message.tenant_id != event.tenant_id  # as the scoped lookup
            or (message.elks_id and message.elks_id != report.id)
        ):
            failures.fail(event, f"Invalid payload: {NO_MESSAGE}")
            continue
        if not message.elks_id:
            Message.objects.filter(pk=message.pk, elks_id=None).update(elks_id=report.id)
            message.elks_id = report.id
        moves.setdefault(message.pk, _Moves(message)).add(report.status, _delivered(event, report))
    applied = [move for move in moves.values() if move.apply()]
    touched = {move.message.conversation_id for move in applied}
    touched.discard(None)
    if touched:
        Conversation.objects.filter(pk__in=touched).update(updated=timezone.now())
    if applied:
        # The moved rows as stored, read once, for the events and whendelivered reports.
        stored = Message.objects.in_bulk([move.message.pk for move in applied])
        reports_emit((stored[move.message.pk], move.moved) for move in applied)


def _delivered(event: WebhookEvent, report: DeliveryReport) -> datetime | None:
    if not report.delivered_given:
        return None
    # Unreadable: the time the report arrived (the stored event keeps the original text).
    return report.delivered or event.received


class _Moves:
    """A message's reports of one batch folded into one UPDATE: each report moves the status
    forward only, as services.delivery_report_apply does (the history sync's path), so `sent`
    never overwrites `delivered`."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.status = message.status
        self.fields: dict[str, object] = {}
        self.fill_sent: datetime | None = None
        self.moved: list[str] = []  # the statuses it passes through, in order

    def add(self, status: str, delivered: datetime | None) -> None:
        now = timezone.now()
        if self.status in Message.statuses_below(status):
            self.status = status
            self.moved.append(status)
            self.fields.update(status=status, updated=now)
            if status == Message.Status.SENT:
                self.fields["sent_at"] = now
            elif status == Message.Status.DELIVERED:
                self.fields["delivered_at"] = delivered or now
            elif status == Message.Status.FAILED:
                self.fields["failed_at"] = now
        if status == Message.Status.DELIVERED and self.fill_sent is None:
            self.fill_sent = delivered or now  # a late `sent` must not erase when it was sent

    def apply(self) -> bool:
        """Write the moves; True when the status moved."""
        pk = self.message.pk
        fields = dict(self.fields)
        if self.fill_sent is not None and "sent_at" not in fields:
            fields["sent_at"] = Coalesce(
                F("sent_at"), Value(self.fill_sent, output_field=DateTimeField())
            )
        if "status" not in fields:
            if self.fill_sent is not None:
                Message.objects.filter(pk=pk, sent_at=None).update(sent_at=self.fill_sent)
            return False
        below = Message.statuses_below(self.status)
        return bool(Message.objects.filter(pk=pk, status__in=below).update(**fields))

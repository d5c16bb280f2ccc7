"""Writes for messaging: queue and send SMS/MMS, apply delivery reports, opt-outs.

A send is claimed by a Message row before 46elks is called: one row per (request, recipient),
moved `queued → sending` by a conditional update that only one worker can win, so a double
click, a retried request or a retried task never sends twice. The claim, its lease, the
`unknown` state after a lost answer and the recovery from 46elks' history are the send
lifecycle in messaging.lifecycle.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Tenant, User
from billing.ledger.services import Rater
from billing.services import SpendRefused, spend_reserve, spend_reserve_or_refuse
from core.phone import to_e164
from core.tasks import publish
from messaging.customer_webhooks.endpoints import message_emit, optout_emit, reports_emit
from messaging.customer_webhooks.models import Event
from messaging.lifecycle import message_attempt, message_claim, message_finish, message_unknown
from messaging.models import Conversation, Message, MessageImage, MessagingSettings, OptOut
from messaging.rating import message_rate, message_release, send_quote
from messaging.senders.services import sender_name_allowed
from messaging.text import is_sender_id, sms_size
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)


class SendError(Exception):
    """Refused before sending; the message is fit for the page. `rule` names a refusal by
    policy ("optout", "sender_name", "spend") rather than by a mistake in the request: the
    API answers those with their own status."""

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


def settings_for(tenant: Tenant) -> MessagingSettings:
    found, _ = MessagingSettings.objects.get_or_create(tenant=tenant)
    return found


def dlr_url(message: Message) -> str:
    return f"{settings.PUBLIC_BASE_URL}/hooks/elks/dlr/{message.callback_token}/"


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    ours: str
    number: PhoneNumber | None


def sender_resolve(
    *,
    tenant: Tenant,
    value: str,
    kind: str = Message.Kind.SMS,
    number: PhoneNumber | None = None,
) -> Sender:
    """A tenant number (active, with the capability) or, for SMS, a text sender id.

    `number` is the tenant's active number `value` when the caller has just read it (the
    API's `from` check): the same row, not read twice. The capability rules still apply.
    """
    value = value.strip()
    if number is None or number.number != value or number.tenant_id != tenant.pk:
        number = PhoneNumber.objects.filter(
            tenant=tenant, number=value, status=PhoneNumber.Status.ACTIVE
        ).first()
    if number is not None:
        if kind == Message.Kind.MMS and not number.has_mms:
            raise SendError(f"{value} cannot send MMS; choose an MMS-capable number.")
        if kind == Message.Kind.SMS and not number.has_sms:
            raise SendError(f"{value} cannot send SMS.")
        return Sender(ours=number.number, number=number)
    if kind == Message.Kind.MMS and is_sender_id(value):
        raise SendError("A sender name can send SMS only: choose an MMS-capable number.")
    if kind == Message.Kind.SMS and is_sender_id(value):
        # Only names staff approved for this tenant: no one sends as a bank or a public body.
        approved = sender_name_allowed(tenant=tenant, value=value)
        if approved is None:
            raise SendError(
                f"“{value}” is not an approved sender name of this account. Request it under "
                "Messages → Sender names; you can send from it once it is approved.",
                rule="sender_name",
            )
        return Sender(ours=approved, number=None)
    raise SendError(
        f"“{value}” is neither one of your active numbers nor a valid sender name "
        "(3 to 11 letters and digits, not starting with a digit)."
    )


def recipients_parse(raw: str | Iterable[str], *, region: str) -> list[str]:
    """E.164 numbers from a list or a comma/newline separated text; all errors at once."""
    items = raw.replace("\n", ",").replace(";", ",").split(",") if isinstance(raw, str) else raw
    found: list[str] = []
    bad: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            number = to_e164(item, region=region)
        except ValidationError:
            bad.append(item)
            continue
        if number not in found:
            found.append(number)
    if bad:
        raise SendError("Not valid phone numbers: " + ", ".join(bad))
    if not found:
        raise SendError("Add at least one recipient.")
    return found


def opted_out(tenant: Tenant | int, phones: Iterable[str]) -> set[str]:
    """Which of these numbers' latest ledger entry is an opt-out."""
    phones = list(phones)
    latest: dict[str, str] = {}
    for phone, kind in (
        OptOut.objects.filter(tenant=tenant, phone__in=phones)
        .order_by("phone", "-created", "-id")
        .values_list("phone", "kind")
    ):
        latest.setdefault(phone, kind)
    return {phone for phone, kind in latest.items() if kind == OptOut.Kind.OUT}


def optout_blocked(
    *, tenant: Tenant, phones: Iterable[str], source: str, confirming: OptOut | None = None
) -> set[str]:
    """The numbers among `phones` this tenant must not message: the one opt-out rule.

    Every sender asks it (compose and replies, campaigns, automatic replies, the API). A
    forward is exempt: it goes to the tenant's own phone, not to the person who opted out.
    `confirming` is the opt-out a STOP just recorded: its confirmation may reach that number
    while that opt-out is still the latest entry, and nothing else may.
    """
    if source == Message.Source.FORWARD:
        return set()
    blocked = opted_out(tenant, phones)
    if confirming is not None and confirming.kind == OptOut.Kind.OUT:
        latest = (
            OptOut.objects.filter(tenant=tenant, phone=confirming.phone)
            .order_by("-created", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        if latest == confirming.pk:
            blocked.discard(confirming.phone)
    return blocked


def price_estimate(*, tenant_id: int, body: str, recipients: Iterable[str]) -> int:
    """The tenant's estimated price of sending `body` to each of `recipients` (its plan)."""
    rater = Rater()
    return sum(send_quote(tenant_id=tenant_id, to=to, body=body, rater=rater) for to in recipients)


def parts_limit(tenant: Tenant) -> int:
    return settings_for(tenant).max_sms_parts


def parts_check(*, tenant: Tenant, body: str, limit: int | None = None) -> int:
    """The parts of `body`, or SendError when it is longer than the tenant may send."""
    size = sms_size(body)
    limit = limit if limit is not None else parts_limit(tenant)
    if size.parts > limit:
        raise SendError(
            f"The message is {size.parts} SMS parts long; this account sends at most {limit} "
            f"parts per message (about {max_characters(size.encoding, limit)} characters). "
            "Shorten it, or ask us to raise the limit."
        )
    return size.parts


def max_characters(encoding: str, parts: int) -> int:
    """How many characters fit in `parts` parts (extension characters count twice in GSM-7)."""
    single, multi = (160, 153) if encoding == "GSM-7" else (70, 67)
    return single if parts <= 1 else multi * parts


# --- queueing and sending ------------------------------------------------------------------


def sms_queue(
    *,
    tenant: Tenant,
    sender: str,
    recipients: list[str],
    body: str,
    request_key: uuid.UUID,
    actor: User | None,
    flash: bool = False,
    delivery_report: bool = True,
    kind: str = Message.Kind.SMS,
    source: str = Message.Source.DASHBOARD,
    conversation: Conversation | None = None,
    confirming: OptOut | None = None,
    whendelivered: str = "",
    dontlog: bool = False,
    sender_number: PhoneNumber | None = None,
) -> list[Message]:
    """Create one queued message per recipient (idempotent on request_key) and enqueue them.

    `conversation` files the messages in an existing conversation instead of the one with
    each recipient: a forwarded copy or an automatic reply belongs to the thread of the
    message it answers (see conversation_attach). `whendelivered` (the customer's own
    delivery-report URL, checked by the caller) and `dontlog` (blank the text once sent) come
    from the 46elks-compatible API, and so does `sender_number` (see sender_resolve).
    """
    if tenant.status != Tenant.Status.ACTIVE:
        raise SendError(f"{tenant.name} is {tenant.get_status_display().lower()}: no sending.")
    who = sender_resolve(tenant=tenant, value=sender, kind=kind, number=sender_number)
    if kind == Message.Kind.SMS and not body.strip():
        raise SendError("Write a message.")
    if kind == Message.Kind.SMS:
        parts_check(tenant=tenant, body=body)
    blocked = optout_blocked(tenant=tenant, phones=recipients, source=source, confirming=confirming)
    if blocked:
        raise SendError(
            "These recipients opted out and cannot be messaged: " + ", ".join(sorted(blocked)),
            rule="optout",
        )
    messages: list[Message] = []
    rater = Rater()
    reserve = 0
    with transaction.atomic():
        for to in recipients:
            estimate = send_quote(tenant_id=tenant.pk, to=to, body=body, kind=kind, rater=rater)
            message = Message(
                tenant=tenant,
                kind=kind,
                direction=Message.Direction.OUT,
                status=Message.Status.QUEUED,
                source=source,
                number=who.number,
                ours=who.ours,
                other=to,
                body=body,
                flash=flash,
                delivery_report=delivery_report,
                whendelivered=whendelivered,
                dontlog=dontlog,
                parts=sms_size(body).parts if kind == Message.Kind.SMS else None,
                request_key=request_key,
                sender=actor if actor and actor.is_authenticated else None,
                reserved=estimate,
            )
            # No existence check first: the unique (request_key, other) refuses a second
            # send, and the savepoint takes back the conversation filed with it.
            try:
                with transaction.atomic():
                    opened = conversation is None and conversation_open(message)
                    if conversation is not None:
                        message.conversation = conversation
                    message.save(force_insert=True)
            except IntegrityError:
                message = Message.objects.get(request_key=request_key, other=to)
            else:
                reserve += estimate
                if conversation is not None:
                    conversation_attach(message, conversation)
                elif not opened:
                    assert message.conversation_id is not None  # filed by conversation_open
                    conversation_advance(message.conversation_id, latest=message, unread=0)
            messages.append(message)
        # The estimated price of the new sends, reserved before anything reaches 46elks; a
        # refusal rolls the messages back and the form says why.
        # The rater has just read the account: its time zone saves spend_reserve a read.
        account = rater.accounts.get(tenant.pk)
        try:
            spend_reserve_or_refuse(
                tenant_id=tenant.pk,
                amount=reserve,
                what="this message" if len(recipients) == 1 else "these messages",
                time_zone=account.time_zone if account is not None else None,
            )
        except SpendRefused as exc:
            raise SendError(str(exc), rule="spend") from exc
        ids = [m.pk for m in messages if m.status == Message.Status.QUEUED]
        if ids:
            from messaging.tasks import messages_send

            publish(messages_send, tenant_id=tenant.pk, message_ids=ids)  # else the outbox sweep
    return messages


@dataclass(frozen=True)
class AutomaticSend:
    """An SMS the platform sends for a tenant: a forward or an automatic reply, from the
    tenant's number (active, SMS-capable: the caller checked), filed in a conversation."""

    number: PhoneNumber
    to: str
    body: str
    source: str
    request_key: uuid.UUID
    conversation_id: int | None


class _PartsLimits(Protocol):
    def settings(self, tenant: Tenant) -> MessagingSettings: ...


def automatic_sends_queue(sends: list[AutomaticSend], *, lookups: _PartsLimits) -> list[Message]:
    """sms_queue for automatic sends, many at once (a batch of inbound events): one lookup for
    the ones queued before (idempotent on request_key), one INSERT, one publish per tenant
    and 50 messages. The caller applied the opt-out rule; a refusal is logged, not raised
    (nobody is there to read it). `lookups` gives each tenant's settings (the parts limit)."""
    accepted: list[tuple[AutomaticSend, int]] = []
    for send in sends:
        tenant = send.number.tenant
        try:
            if tenant is None or tenant.status != Tenant.Status.ACTIVE:
                raise SendError("the number's account is not active: no sending.")
            limit = lookups.settings(tenant).max_sms_parts
            accepted.append((send, parts_check(tenant=tenant, body=send.body, limit=limit)))
        except SendError as exc:
            log.warning("Automatic %s to %s refused: %s", send.source, send.to, exc)
    if not accepted:
        return []
    queued_before = set(
        Message.objects.filter(request_key__in={s.request_key for s, _ in accepted}).values_list(
            "request_key", "other"
        )
    )
    rater = Rater()
    fresh = [
        Message(
            tenant_id=send.number.tenant_id,
            kind=Message.Kind.SMS,
            direction=Message.Direction.OUT,
            status=Message.Status.QUEUED,
            source=send.source,
            number=send.number,
            ours=send.number.number,
            other=send.to,
            body=send.body,
            parts=parts,
            request_key=send.request_key,
            conversation_id=send.conversation_id,
            reserved=send_quote(
                tenant_id=send.number.tenant_id, to=send.to, body=send.body, rater=rater
            ),
        )
        for send, parts in accepted
        if (send.request_key, send.to) not in queued_before
    ]
    fresh = [m for m in fresh if _automatic_reserve(m)]
    if not fresh:
        return []
    Message.objects.bulk_create(fresh)
    # As conversation_attach: the thread shows them; its preview stays the customer's word.
    threads = {m.conversation_id for m in fresh if m.conversation_id}
    if threads:
        Conversation.objects.filter(pk__in=threads).update(updated=timezone.now())
    from messaging.tasks import messages_send

    by_tenant: dict[int, list[int]] = {}
    for message in fresh:
        by_tenant.setdefault(message.tenant_id, []).append(message.pk)
    for tenant_id, ids in by_tenant.items():
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            publish(messages_send, tenant_id=tenant_id, message_ids=chunk)  # or the sweep
    return fresh


def _automatic_reserve(message: Message) -> bool:
    """Reserve an automatic send's price; one that does not fit is not sent (logged)."""
    if spend_reserve(tenant_id=message.tenant_id, amount=message.reserved):
        return True
    log.warning(
        "Automatic %s to %s not sent: over the tenant's spending limit or balance",
        message.source,
        message.other,
    )
    return False


def message_send(*, message_id: int) -> None:
    """Send one queued message through the send lifecycle (messaging.lifecycle).

    Safe to run twice: only the worker that wins the claim sends, and only while its lease
    holds; a worker that dies after the claim leaves a lease that recover takes back.
    """
    message = message_claim(message_id=message_id)
    if message is None:
        return
    if _opted_out_since_queued(message):
        _message_fail(
            message=message, error="Not sent: the recipient opted out after it was queued."
        )
        return
    tenant = message.tenant
    dontlog = settings_for(tenant).dontlog or message.dontlog
    client = elks_for_tenant(tenant)
    image = message.images.first() if message.kind == Message.Kind.MMS else None
    if not message_attempt(message=message):
        return  # the lease ran out before the call: the message is queued again
    try:
        if message.kind == Message.Kind.MMS:
            remote = client.mms_send(
                from_=message.ours,
                to=message.other,
                message=message.body or None,
                image=_image_url(image) if image else None,
            )
        else:
            remote = client.sms_send(
                from_=message.ours,
                to=message.other,
                message=message.body,
                whendelivered=dlr_url(message) if message.delivery_report else None,
                flashsms=message.flash,
                dontlog=dontlog,
            )
    except ElksError as exc:
        if exc.maybe_accepted:
            message_unknown(message=message, error=str(exc))  # keeps its reservation
        else:
            _message_fail(message=message, error=str(exc)[:1000])
        return
    message.parts = getattr(remote, "parts", None) or message.parts
    with transaction.atomic():  # the accepted send and its usage entry, together
        if message_finish(
            message=message,
            status=Message.Status.CREATED
            if message.kind == Message.Kind.SMS
            else Message.Status.SENT,
            elks_id=remote.id or None,
            cost=remote.cost,
            parts=message.parts,
            sent_at=timezone.now() if message.kind == Message.Kind.MMS else None,
            error="",
        ):
            message_rate(message=message, cost=remote.cost)
            message_emit(message=message, event=Event.MESSAGE_SENT)
            if message.dontlog:  # dontlog=message: once 46elks has it, the text is not kept
                Message.objects.filter(pk=message.pk).update(body="", body_blanked=True)
    Conversation.objects.filter(pk=message.conversation_id).update(updated=timezone.now())


def _message_fail(*, message: Message, error: str) -> None:
    """A claimed send that never reached 46elks: failed, its reservation back, and told."""
    with transaction.atomic():
        if message_finish(
            message=message, status=Message.Status.FAILED, error=error, failed_at=timezone.now()
        ):
            message_release(message=message)
            message_emit(message=message, event=Event.MESSAGE_FAILED)


def _opted_out_since_queued(message: Message) -> bool:
    """A STOP that arrived while the message waited in the queue still stops it.

    Opt-outs older than the message were refused by optout_blocked when it was queued (bar
    the STOP's own confirmation, queued after its opt-out): so the question is whether the
    number is opted out now but was not when the message was queued.
    """
    if message.source == Message.Source.FORWARD:
        return False
    ledger = OptOut.objects.filter(tenant_id=message.tenant_id, phone=message.other).order_by(
        "-created", "-id"
    )
    if ledger.values_list("kind", flat=True).first() != OptOut.Kind.OUT:
        return False
    then = ledger.filter(created__lte=message.created).values_list("kind", flat=True).first()
    return then != OptOut.Kind.OUT


def _public_image_url(image: MessageImage) -> str:
    return f"{settings.PUBLIC_BASE_URL}/media/mms/{image.public_token}/"


def _image_url(image: MessageImage) -> str:
    """Ours when the file is stored here; else the customer's own URL (an API send given an
    image URL: 46elks fetches it, as it would for the customer directly)."""
    return _public_image_url(image) if image.file else image.source_url


def sms_dry_run(
    *, tenant: Tenant, sender: str, recipients: list[str], body: str
) -> tuple[int, int]:
    """(parts, the tenant's estimated price for all recipients): 46elks checks the send
    (dryrun=yes, its parts count), the price is the tenant's plan, per recipient."""
    who = sender_resolve(tenant=tenant, value=sender)
    try:
        result = elks_for_tenant(tenant).sms_send(
            from_=who.ours, to=recipients[0], message=body, dryrun=True
        )
    except ElksError as exc:
        raise SendError(f"46elks could not estimate: {exc}") from exc
    rater = Rater()
    price = sum(send_quote(tenant_id=tenant.pk, to=to, body=body, rater=rater) for to in recipients)
    return (result.parts or sms_size(body).parts), price


# --- conversations, reports, opt-outs --------------------------------------------------------


def conversation_touch(message: Message) -> Conversation:
    """Attach a message to its conversation and move the conversation to the top."""
    conversation, _ = Conversation.objects.get_or_create(
        tenant_id=message.tenant_id,
        ours=message.ours,
        other=message.other,
        defaults={"number": message.number, "last_message_at": message.created},
    )
    unread = 1 if message.direction == Message.Direction.IN else 0
    Message.objects.filter(pk=message.pk).update(conversation=conversation)
    message.conversation = conversation
    conversation_advance(conversation.pk, latest=message, unread=unread)
    return conversation


def conversation_open(message: Message) -> bool:
    """File an unsaved outbound message in its conversation before its INSERT (so the row is
    written once, with its conversation). True when the conversation is new: created showing
    this message, it needs no conversation_advance; False: the caller advances it after the
    INSERT."""
    preview = (message.body or ("[image]" if message.kind == Message.Kind.MMS else ""))[:120]
    conversation, created = Conversation.objects.get_or_create(
        tenant_id=message.tenant_id,
        ours=message.ours,
        other=message.other,
        defaults={
            "number": message.number,
            "last_message_at": message.created,
            "last_preview": preview,
            "last_direction": message.direction,
        },
    )
    message.conversation = conversation
    return created


def conversation_advance(conversation_id: int, *, latest: Message, unread: int) -> None:
    """Count `unread` more inbound messages, and show `latest` at the top unless the
    conversation already shows a later one: messages processed out of order (two workers,
    a late retry) never put an older word on top."""
    _advance({conversation_id: (latest, unread)})


def _advance(rows: dict[int, tuple[Message, int]]) -> None:
    """conversation_advance for many conversations in one UPDATE ... FROM (VALUES ...).

    One statement per batch instead of one per conversation: the ORM's per-row UPDATE with
    CASE expressions cost about 2 ms of CPU per conversation (bench/event_pipeline.py).
    """
    table = Conversation._meta.db_table
    ops = connection.ops
    pg = connection.vendor == "postgresql"
    # PostgreSQL types VALUES from its first row: NULLs and text need casts there.
    row = (
        "(%s::bigint, %s::timestamptz, %s::text, %s::text, %s::int, %s::bigint)"
        if pg
        else "(%s, %s, %s, %s, %s, %s)"
    )
    params: list[object] = [ops.adapt_datetimefield_value(timezone.now())]
    # In id order: two drains advancing the same conversations lock them in the same order
    # (a deadlock would only cost a retry one by one, but need not happen).
    for conversation_id, (latest, unread) in sorted(rows.items()):
        preview = (latest.body or ("[image]" if latest.kind == Message.Kind.MMS else ""))[:120]
        params += [
            conversation_id,
            ops.adapt_datetimefield_value(latest.created),
            preview,
            latest.direction,
            unread,
            latest.number_id,
        ]
    newer = "(c.last_message_at IS NULL OR c.last_message_at <= v.at)"
    sql = (
        f"UPDATE {table} AS c SET "
        f"last_message_at = CASE WHEN {newer} THEN v.at ELSE c.last_message_at END, "
        f"last_preview = CASE WHEN {newer} THEN v.preview ELSE c.last_preview END, "
        f"last_direction = CASE WHEN {newer} THEN v.direction ELSE c.last_direction END, "
        "unread = c.unread + v.unread, updated = %s, "
        "number_id = COALESCE(v.number_id, c.number_id) "
        "FROM (SELECT column1 AS id, column2 AS at, column3 AS preview, column4 AS direction, "
        "column5 AS unread, column6 AS number_id "
        f"FROM (VALUES {', '.join([row] * len(rows))}) AS vv) AS v "
        "WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:  # `updated` is the first placeholder, then the rows
        cursor.execute(sql, params)


def conversations_file(messages: list[Message]) -> None:
    """Set each (unsaved) message's conversation, creating the missing ones: three queries
    for the whole list, whatever its length."""
    keys = {(m.tenant_id, m.ours, m.other) for m in messages}

    def existing() -> dict[tuple[int, str, str], Conversation]:
        found = Conversation.objects.filter(
            tenant_id__in={k[0] for k in keys}, other__in={k[2] for k in keys}
        )
        return {
            (c.tenant_id, c.ours, c.other): c
            for c in found
            if (c.tenant_id, c.ours, c.other) in keys
        }

    by_key = existing()
    missing = {}
    for m in messages:
        key = (m.tenant_id, m.ours, m.other)
        if key not in by_key and key not in missing:
            missing[key] = Conversation(
                tenant_id=m.tenant_id,
                ours=m.ours,
                other=m.other,
                number=m.number,
                last_message_at=m.created,
            )
    if missing:
        # Another worker may create one meanwhile: ignore that conflict and read them back.
        Conversation.objects.bulk_create(list(missing.values()), ignore_conflicts=True)
        by_key = existing()
    for m in messages:
        m.conversation = by_key[(m.tenant_id, m.ours, m.other)]


def conversations_advance(messages: list[Message]) -> None:
    """conversation_advance once per conversation: the latest of its messages on top (the
    last in arrival order among equally recent ones, as one by one), its inbound counted."""
    latest: dict[int, Message] = {}
    unread: dict[int, int] = {}
    for m in messages:
        key = m.conversation_id
        assert key is not None
        if key not in latest or m.created >= latest[key].created:
            latest[key] = m
        unread[key] = unread.get(key, 0) + (m.direction == Message.Direction.IN)
    if latest:
        _advance({key: (message, unread[key]) for key, message in latest.items()})


def conversation_attach(message: Message, conversation: Conversation) -> None:
    """File a message in a conversation without making it the conversation's latest word.

    For automatic sends (forwards, automatic replies): the thread shows them, while the inbox
    preview stays what the customer wrote and the reply target stays the customer.
    """
    Message.objects.filter(pk=message.pk).update(conversation=conversation)
    Conversation.objects.filter(pk=conversation.pk).update(updated=timezone.now())
    message.conversation = conversation


def conversation_mark_read(conversation: Conversation) -> None:
    if conversation.unread:
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(unread=0, updated=now)
        conversation.messages.filter(direction=Message.Direction.IN, read_at=None).update(
            read_at=now
        )


def delivery_report_apply(
    *, message: Message, status: str, delivered: datetime | None = None
) -> bool:
    """Move an outbound message forward to `status`; False when it was already there or past."""
    now = timezone.now()
    fields: dict[str, object] = {"status": status, "updated": now}
    if status == Message.Status.SENT:
        fields["sent_at"] = now
    elif status == Message.Status.DELIVERED:
        fields["delivered_at"] = delivered or now
    elif status == Message.Status.FAILED:
        fields["failed_at"] = now
    with transaction.atomic():
        moved = Message.objects.filter(
            pk=message.pk, status__in=Message.statuses_below(status)
        ).update(**fields)
        if status == Message.Status.DELIVERED:
            # A late `sent` report must not erase when it was sent.
            Message.objects.filter(pk=message.pk, sent_at=None).update(sent_at=delivered or now)
        if moved and message.conversation_id:
            Conversation.objects.filter(pk=message.conversation_id).update(updated=now)
        if moved:
            reports_emit([(Message.objects.get(pk=message.pk), [status])])
    return bool(moved)


def optout_record(
    *,
    tenant: Tenant,
    phone: str,
    kind: str,
    message: Message | None = None,
    word: str = "",
    actor: User | None = None,
) -> OptOut:
    # Contacts mirror the ledger, so campaigns skip an opted-out number at once.
    from messaging.contacts.models import Contact

    with transaction.atomic():
        before = (
            OptOut.objects.filter(tenant=tenant, phone=phone)
            .order_by("-created", "-id")
            .values_list("kind", flat=True)
            .first()
        )
        entry = OptOut.objects.create(
            tenant=tenant, phone=phone, kind=kind, message=message, word=word, actor=actor
        )
        Contact.objects.filter(tenant=tenant, phone=phone).update(
            opted_out=kind == OptOut.Kind.OUT, updated=timezone.now()
        )
        # Told only when the number's state changes (a repeated STOP changes nothing); no
        # entry yet means opted in.
        if (before or OptOut.Kind.IN) != kind:
            optout_emit(entry=entry)
    return entry

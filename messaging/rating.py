"""Rating messages at the tenant's price, in the transaction that records each event.

Every cost-bearing message event becomes a usage entry (`billing.ledger.services`):
- an outgoing SMS/MMS when 46elks accepts it (source `message:<pk>`, its estimated cost until
  46elks reports one), settling the price reserved when it was queued (`Message.reserved`);
- an inbound SMS/MMS (the plan may charge nothing: then nothing is appended);
- a campaign send when 46elks accepts it (source `recipient:<pk>`; its Message in the log is
  a mirror and carries the same price, never a second entry);
- later, the history sync's real cost: the same event again, and the core appends only the
  difference (nothing when unchanged). Rows imported from 46elks' history that were never
  recorded here are rated as new events.
`Message.price` / `CampaignRecipient.price` keep the source's total, for the pages.

A reservation is released exactly once: whoever zeroes `Message.reserved` with a conditional
UPDATE gives it back (by rating, or by `message_release` on a refusal).

`BILLING_RATING_ENABLED` (default True) exists for bench/rating.py only: off, events are not
rated (reservations are still given back), so the cost of rating can be measured.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.ledger.bulk import NewUsage
from billing.ledger.services import Rater, UsageEvent, usage_record
from billing.services import spend_release
from messaging.campaigns.models import CampaignRecipient
from messaging.models import Message
from messaging.text import sms_size


def rating_enabled() -> bool:
    """The benchmark switch (read at call time); always on in production."""
    return bool(getattr(settings, "BILLING_RATING_ENABLED", True))


def message_source(message: Message) -> str:
    if message.campaign_recipient_id:
        return f"recipient:{message.campaign_recipient_id}"
    return f"message:{message.pk}"


def message_event(message: Message, *, cost: int | None) -> UsageEvent:
    out = message.direction == Message.Direction.OUT
    kind = f"{'mms' if message.kind == Message.Kind.MMS else 'sms'}_{'out' if out else 'in'}"
    return UsageEvent(
        kind=kind,  # one of the four message kinds
        source=message_source(message),
        occurred_at=message.created,
        to=message.other if out else "",
        parts=message.parts or 1,
        provider_cost=cost,
        number_id=message.number_id,
    )


def send_quote(
    *, tenant_id: int, to: str, body: str, kind: str = Message.Kind.SMS, rater: Rater | None = None
) -> int:
    """The tenant's estimated price of one send (what is reserved before it is queued)."""
    event = UsageEvent(
        kind="mms_out" if kind == Message.Kind.MMS else "sms_out",
        source="",
        occurred_at=timezone.now(),
        to=to,
        parts=sms_size(body).parts if kind == Message.Kind.SMS else 1,
    )
    return (rater or Rater()).quote(tenant_id=tenant_id, event=event).price


def _take_reservation(message: Message) -> int:
    """The message's reservation, zeroed here so no one else gives it back."""
    held = Message.objects.filter(pk=message.pk).values_list("reserved", flat=True).first() or 0
    if held and Message.objects.filter(pk=message.pk, reserved=held).update(reserved=0):
        message.reserved = 0
        return held
    return 0


def message_release(*, message: Message) -> None:
    """A send that never reached 46elks (refused, opted out, given up): its reservation back."""
    spend_release(tenant_id=message.tenant_id, amount=_take_reservation(message))


def message_rate(*, message: Message, cost: int | None, rater: Rater | None = None) -> None:
    """Rate the message (first time) or append its correction, settle its reservation and
    store its price total. Campaign Messages rate their recipient's source."""
    with transaction.atomic():
        release = _take_reservation(message)
        if not rating_enabled():
            spend_release(tenant_id=message.tenant_id, amount=release)
            return
        rating = usage_record(
            tenant_id=message.tenant_id,
            event=message_event(message, cost=cost),
            release=release,
            rater=rater,
        )
        Message.objects.filter(pk=message.pk).update(price=rating.price)
        if message.campaign_recipient_id:
            CampaignRecipient.objects.filter(pk=message.campaign_recipient_id).update(
                price=rating.price
            )
    message.price = rating.price


def inbound_price_many(messages: list[Message], *, batch: NewUsage) -> None:
    """Price each unsaved inbound message before its INSERT (no UPDATE afterwards)."""
    if not rating_enabled():
        return
    for m in messages:
        m.price = batch.price(tenant_id=m.tenant_id, event=message_event(m, cost=None)).price


def inbound_rate_many(messages: list[Message], *, batch: NewUsage) -> None:
    """Entries for the inbound messages just inserted (new rows, so new sources), in bulk."""
    if not rating_enabled():
        return
    batch.record(sources=[message_source(m) for m in messages])


def recipient_event(
    recipient: CampaignRecipient, *, cost: int | None, at: datetime | None = None
) -> UsageEvent:
    return UsageEvent(
        kind="sms_out",
        source=f"recipient:{recipient.pk}",
        occurred_at=at or recipient.claimed_at or timezone.now(),
        to=recipient.phone,
        parts=sms_size(recipient.body).parts if recipient.body else 1,
        provider_cost=cost,
    )


def recipient_send_price(
    recipient: CampaignRecipient, *, cost: int | None, batch: NewUsage
) -> int | None:
    """The price of a campaign send 46elks just accepted, priced in `batch` for
    `recipient_send_record` (its first rating: the claim that sent it is new). None: off."""
    if not rating_enabled():
        return None
    return batch.price(
        tenant_id=recipient.tenant_id, event=recipient_event(recipient, cost=cost)
    ).price


def recipient_send_record(recipient: CampaignRecipient, *, release: int, batch: NewUsage) -> None:
    """Append the send's entry and settle its reservation (in the send's transaction)."""
    if not rating_enabled():
        spend_release(tenant_id=recipient.tenant_id, amount=release)
        return
    batch.record(release={recipient.tenant_id: release})


def recipient_rate(
    *,
    recipient: CampaignRecipient,
    cost: int | None,
    release: int,
    rater: Rater | None = None,
) -> None:
    """Rate a campaign send (or correct it), settling `release` of its reservation; its
    price goes on the recipient and on its Message in the log, if logged already."""
    if not rating_enabled():
        spend_release(tenant_id=recipient.tenant_id, amount=release)
        return
    with transaction.atomic():
        rating = usage_record(
            tenant_id=recipient.tenant_id,
            event=recipient_event(recipient, cost=cost),
            release=release,
            rater=rater,
        )
        CampaignRecipient.objects.filter(pk=recipient.pk).update(price=rating.price)
        Message.objects.filter(campaign_recipient_id=recipient.pk).update(price=rating.price)
    recipient.price = rating.price

"""The send lifecycle of a single outbound message: the shared lease, and its reconciliation.

A one-off send (typed in the portal, an automatic reply or forward, the API) is a `Message`
that goes through the lease every outbound send shares (`messaging.lease`, described there);
`MESSAGE` is its description, and the functions below are its steps in this app's words:

    queued  --message_claim-->    sending   the worker's lease (MESSAGE_SENDING_LEASE_SECONDS)
    sending --message_renew-->    sending   only while the claim is still ours
    sending --message_attempt-->  sending   attempted_at, committed BEFORE the provider call
    sending --message_finish-->   created | sent | failed   the provider's answer
    sending --message_unknown-->  unknown   the answer was lost (timeout, maybe_accepted)
    messages_recover (beat, `sending` queue), first the lease's recover of dead workers'
    claims (never attempted → queued, for the outbox sweep; attempted → unknown), then for
    `unknown` sends attempted MESSAGE_RECONCILE_AFTER_SECONDS ago or more:
      found in 46elks' history --> created (then on, from the history's status), with its id
      not found                --> failed, or queued again (MESSAGE_UNSENT_AFTER_RECONCILE)

A send is found in the history by recipient, sender and text, created within the request's
timeout (plus clock skew) of its attempt: `history_match` and `history_margin`, shared with
the campaign engine, which runs its recipients through the same lease.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.customer_webhooks.endpoints import message_emit
from messaging.customer_webhooks.models import Event
from messaging.lease import (
    Lease,
    lease_attempt,
    lease_claim_one,
    lease_finish,
    lease_recover,
    lease_renew,
    lease_settle,
)
from messaging.models import COST_EXPECTED, Message
from messaging.rating import message_release
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError
from providers.elks.types import Mms, Sms

log = logging.getLogger(__name__)

# Clock skew allowed between this server and 46elks when matching a send to its attempt.
RECONCILE_SKEW = timedelta(seconds=10)
# What recover does with a send 46elks' history does not list (settings value → status).
UNSENT_FAILED = "failed"
UNSENT_RESEND = "resend"

MESSAGE = Lease(
    model=Message,
    queued=Message.Status.QUEUED,
    sending=Message.Status.SENDING,
    unknown=Message.Status.UNKNOWN,
    seconds_setting="MESSAGE_SENDING_LEASE_SECONDS",
    stamp="updated",
    reset={"error": ""},
)

Sent = TypeVar("Sent", bound=Sms | Mms)


# --- the worker's steps --------------------------------------------------------------------


def message_claim(*, message_id: int, now: datetime | None = None) -> Message | None:
    """queued → sending with a fresh lease; the claimed message, or None if another won."""
    if not lease_claim_one(MESSAGE, pk=message_id, now=now):
        return None
    return Message.objects.select_related("tenant", "number").get(pk=message_id)


def message_renew(*, message: Message, now: datetime | None = None) -> bool:
    """Extend the lease while the claim is still ours (a dead worker stops renewing)."""
    return bool(lease_renew(MESSAGE, [message], now=now))


def message_attempt(*, message: Message, now: datetime | None = None) -> bool:
    """Record that the provider call is about to start; False when the claim is no longer
    ours (its lease ran out and recover queued it again): then the caller must not send.

    Must run outside a transaction, so the mark is committed before 46elks is called.
    """
    return lease_attempt(MESSAGE, message, now=now)


def message_finish(*, message: Message, status: str, **fields: object) -> bool:
    """Record the outcome of this claim (the provider's answer, or a refusal before it); the
    fields are set on `message` too, so what is emitted about it reads them."""
    finished = lease_finish(MESSAGE, message, status=status, **fields)
    if finished:
        for name, value in fields.items():
            setattr(message, name, value)
    return finished


def message_unknown(*, message: Message, error: str) -> bool:
    """The answer was lost (timeout, connection dropped after the request went out): 46elks
    may have sent it. Never resent blindly; recover settles it from the history."""
    return message_finish(message=message, status=Message.Status.UNKNOWN, error=error[:1000])


# --- matching a send in 46elks' history ------------------------------------------------------


def history_margin() -> timedelta:
    """How far from its attempt 46elks may have created a send: the request's timeout."""
    return timedelta(seconds=settings.ELKS_TIMEOUT) + RECONCILE_SKEW


def history_match(
    candidates: Iterable[Sent],
    *,
    to: str,
    sender: str,
    body: str,
    attempted: datetime,
    margin: timedelta,
    taken: set[str],
) -> Sent | None:
    """The first listed send that is this one: same recipient, sender and text, created
    within `margin` of the attempt, and not already settling another row (`taken`)."""
    for item in candidates:
        if (
            item.id
            and item.id not in taken
            and item.direction in (None, "outgoing")
            and item.to == to
            and item.from_ == sender
            and (item.message or "") == body
            and item.created is not None
            and abs(item.created - attempted) <= margin
        ):
            return item
    return None


# --- recovery (beat) -----------------------------------------------------------------------


@dataclass
class Recovered:
    requeued: int = 0
    unknown: int = 0
    found: int = 0
    unsent: int = 0

    def __str__(self) -> str:
        return (
            f"Sends recovered: {self.requeued} queued again, {self.unknown} unknown, "
            f"{self.found} found in 46elks' history, {self.unsent} not sent."
        )


def messages_recover(*, now: datetime | None = None, limit: int = 200) -> Recovered:
    """Beat: give back dead workers' claims, then settle unknown sends from the history."""
    now = now or timezone.now()
    done = Recovered()
    with scopes_disabled():
        done.requeued, done.unknown = lease_recover(MESSAGE, now=now)
        settle = now - timedelta(seconds=settings.MESSAGE_RECONCILE_AFTER_SECONDS)
        due = list(
            Message.objects.filter(
                # Sends from before the lease existed have no attempted_at: their last update.
                Q(attempted_at__lte=settle) | Q(attempted_at=None, updated__lte=settle),
                status=Message.Status.UNKNOWN,
                direction=Message.Direction.OUT,
                elks_id=None,
            )
            .select_related("tenant")
            .order_by("attempted_at", "pk")[:limit]
        )
    for message in due:
        with scope(tenant=message.tenant_id):
            outcome = message_reconcile(message=message, now=now)
        if outcome == "found":
            done.found += 1
        elif outcome == "unsent":
            done.unsent += 1
    return done


def message_reconcile(*, message: Message, now: datetime | None = None) -> str:
    """Settle one `unknown` send from 46elks' history: "found", "unsent" or "" (not now)."""
    from messaging.sync import history_apply  # sync builds on services, which build on us

    now = now or timezone.now()
    attempted = message.attempted_at or message.claimed_at or message.updated
    margin = history_margin()
    after, before = attempted - margin, min(now, attempted + margin)
    client = elks_for_tenant(message.tenant)
    try:
        listed: Iterable[Sms | Mms] = (
            list(client.mms_list(start=before, end=after))
            if message.kind == Message.Kind.MMS
            else list(client.sms_list(to=message.other, start=before, end=after))
        )
    except ElksError as exc:
        log.warning("Reconciling message %s failed: %s", message.pk, exc)
        return ""
    ids = [item.id for item in listed if item.id]
    taken = set(Message.objects.filter(elks_id__in=ids).values_list("elks_id", flat=True))
    match = history_match(
        listed,
        to=message.other,
        sender=message.ours,
        body=message.body,
        attempted=attempted,
        margin=margin,
        taken=taken,
    )
    if match is not None:
        with transaction.atomic():
            history_apply(message, match)
            message.refresh_from_db()
            if message.status in COST_EXPECTED:
                message_emit(message=message, event=Event.MESSAGE_SENT)
        return "found"
    if now - attempted < timedelta(seconds=settings.MESSAGE_RECONCILE_AFTER_SECONDS):
        return ""
    # 46elks has no such message well after the attempt: it was never sent.
    if settings.MESSAGE_UNSENT_AFTER_RECONCILE == UNSENT_RESEND:
        moved = lease_settle(MESSAGE, message, status=Message.Status.QUEUED, now=now)
    else:
        error = "Not sent: 46elks has no record of it after the answer was lost."
        with transaction.atomic():
            moved = lease_settle(
                MESSAGE, message, status=Message.Status.FAILED, now=now, error=error, failed_at=now
            )
            if moved:
                message_release(message=message)
                message.error, message.failed_at = error, now
                message_emit(message=message, event=Event.MESSAGE_FAILED)
    return "unsent" if moved else ""

"""One send lifecycle for an outbound message: claim, lease, attempt, finish, recover.

Invariant: a message is sent at most once, and no message stays `sending` or `unknown` for
ever. Every step is a conditional UPDATE that moves the row only if it is still where the
caller left it, so a retried task, a second worker or a late answer cannot move it twice.

    queued  --claim-->    sending   claimed_at = now: the worker's lease
    sending --renew-->    sending   claimed_at = now, only while the claim is still ours
    sending --attempt-->  sending   attempted_at = now, committed BEFORE the provider call
    sending --finish-->   created | sent | failed   the provider's answer
    sending --unknown-->  unknown   the answer was lost (timeout, maybe_accepted)
    recover (beat, `sending` queue), for leases not renewed in MESSAGE_SENDING_LEASE_SECONDS:
      sending, never attempted --> queued    nothing reached 46elks; the outbox sweep sends it
      sending, attempted       --> unknown   46elks may have it
    recover, for `unknown` sends attempted MESSAGE_RECONCILE_AFTER_SECONDS ago or more:
      found in 46elks' history --> created (then on, from the history's status), with its id
      not found                --> failed, or queued again (MESSAGE_UNSENT_AFTER_RECONCILE)

A send is found in the history by recipient, sender and text, created within the request's
timeout (plus clock skew) of its attempt: `history_match`, shared with the campaign engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import Message
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError
from providers.elks.types import Mms, Sms

log = logging.getLogger(__name__)

# Clock skew allowed between this server and 46elks when matching a send to its attempt.
RECONCILE_SKEW = timedelta(seconds=10)
# What recover does with a send 46elks' history does not list (settings value → status).
UNSENT_FAILED = "failed"
UNSENT_RESEND = "resend"
# The statuses a provider's answer may still be recorded in: `unknown` too, so an answer
# that arrives after recover gave up on the lease is kept (it carries the provider's id).
IN_FLIGHT = (Message.Status.SENDING, Message.Status.UNKNOWN)

Sent = TypeVar("Sent", bound=Sms | Mms)


# --- the worker's steps --------------------------------------------------------------------


def message_claim(*, message_id: int, now: datetime | None = None) -> Message | None:
    """queued → sending with a fresh lease; the claimed message, or None if another won."""
    now = now or timezone.now()
    claimed = Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.SENDING, claimed_at=now, attempted_at=None, updated=now
    )
    if not claimed:
        return None
    return Message.objects.select_related("tenant", "number").get(pk=message_id)


def message_renew(*, message: Message, now: datetime | None = None) -> bool:
    """Extend the lease while the claim is still ours (a dead worker stops renewing)."""
    now = now or timezone.now()
    renewed = Message.objects.filter(
        pk=message.pk, status=Message.Status.SENDING, claimed_at=message.claimed_at
    ).update(claimed_at=now)
    if renewed:
        message.claimed_at = now
    return bool(renewed)


def message_attempt(*, message: Message, now: datetime | None = None) -> bool:
    """Record that the provider call is about to start; False when the claim is no longer
    ours (its lease ran out and recover queued it again): then the caller must not send.

    Must run outside a transaction, so the mark is committed before 46elks is called.
    """
    now = now or timezone.now()
    attempted = Message.objects.filter(
        pk=message.pk,
        status=Message.Status.SENDING,
        claimed_at=message.claimed_at,
        attempted_at=None,
    ).update(attempted_at=now, updated=now)
    if attempted:
        message.attempted_at = now
    return bool(attempted)


def message_finish(*, message: Message, status: str, **fields: object) -> bool:
    """Record the outcome of this claim (the provider's answer, or a refusal before it)."""
    finished = Message.objects.filter(
        pk=message.pk, status__in=IN_FLIGHT, claimed_at=message.claimed_at
    ).update(status=status, updated=timezone.now(), **fields)
    if finished:
        message.status = status
    return bool(finished)


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
    stale = now - timedelta(seconds=settings.MESSAGE_SENDING_LEASE_SECONDS)
    with scopes_disabled():
        orphans = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=stale)
        done.requeued = orphans.filter(attempted_at=None).update(
            status=Message.Status.QUEUED, claimed_at=None, updated=now
        )
        done.unknown = orphans.exclude(attempted_at=None).update(
            status=Message.Status.UNKNOWN,
            error="The worker stopped during the send; checking 46elks.",
            updated=now,
        )
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
        history_apply(message, match)
        return "found"
    if now - attempted < timedelta(seconds=settings.MESSAGE_RECONCILE_AFTER_SECONDS):
        return ""
    # 46elks has no such message well after the attempt: it was never sent.
    if settings.MESSAGE_UNSENT_AFTER_RECONCILE == UNSENT_RESEND:
        moved = Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
            status=Message.Status.QUEUED, claimed_at=None, attempted_at=None, error="", updated=now
        )
    else:
        moved = Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
            status=Message.Status.FAILED,
            error="Not sent: 46elks has no record of it after the answer was lost.",
            failed_at=now,
            updated=now,
        )
    return "unsent" if moved else ""


# --- how the campaign engine will use this ---------------------------------------------------
#
# The campaign engine (messaging.campaigns) keeps its own lease on CampaignRecipient rows this
# round and already shares `history_match` and `history_margin`. Moving it onto this lifecycle
# means creating the recipient's Message when the recipient is claimed (status `sending`,
# source CAMPAIGN, campaign_recipient set) and then, per recipient:
#     message = message_claim(message_id=...)            # instead of claim_batch's UPDATE
#     message_renew(message=message)                     # instead of _renew, every lease / 3
#     if not message_attempt(message=message): continue  # instead of _attempt
#     ... client.sms_send(...)
#     message_finish(message=message, status=..., elks_id=..., cost=...)  # instead of _finish
#     message_unknown(message=message, error=...)        # on ElksError.maybe_accepted
# and campaigns_tick's recipients_recover / reconcile_unknown become messages_recover (its
# per-campaign paged walk of the history is the batch form of message_reconcile; the
# campaign's policy for a send the history lacks is UNSENT_RESEND).

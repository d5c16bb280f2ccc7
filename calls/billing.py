"""Rating calls at the tenant's price, and the click-to-call reservation.

A call is rated per billable leg, as 46elks bills it: an outgoing call's own leg (to the
number dialled: the user's phone for click-to-call) and every forwarded leg that was
answered, each for its own duration. Each leg is one ledger source, `call:<pk>:<n>`, with the
call's reported cost shared between the legs by their seconds. A call with a cost or a
duration but no billable leg reported (history rows without legs) is one leg to the other
party (outgoing) or to our number (incoming).

`call_rate` runs in the transaction that records the hang-up or the history row; a later
report with another cost or duration appends corrections (billing.ledger), the same report
again appends nothing.

Click-to-call reserves before 46elks is asked: for both legs (the user's phone, then the
customer), the plan's price of a CALL_RESERVE_MINUTES-minute call (connection fee included).
The reservation is stored on the call, released when the call is rated, the provider
refused it, or (history sync) CALL_RESERVATION_MAX_SECONDS after it was placed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from billing.ledger.models import UsageEntry
from billing.ledger.services import Rater, UsageEvent, usage_record
from billing.plans.pricing import country_of
from billing.services import spend_release, spend_reserve_or_refuse
from calls.models import Call

# How many legs beyond today's a later report may have dropped (checked for corrections).
MAX_VANISHED_LEGS = 8
FINAL_STATES = frozenset({Call.State.SUCCESS, Call.State.BUSY, Call.State.FAILED})


@dataclass(frozen=True)
class Leg:
    to: str
    seconds: int


def billable_legs(call: Call) -> list[Leg]:
    duration = call.duration or 0
    legs: list[Leg] = []
    if call.direction == Call.Direction.OUT and duration:
        legs.append(Leg(call.agent_phone or call.other, duration))
    for leg in call.legs or []:
        if isinstance(leg, dict) and leg.get("state") == "success" and leg.get("to"):
            seconds = leg.get("duration")
            legs.append(Leg(str(leg["to"]), seconds if isinstance(seconds, int) else duration))
    if not legs and (duration or call.cost):
        to = call.other if call.direction == Call.Direction.OUT else call.ours
        legs.append(Leg(to, duration))
    return legs


def _shares(cost: int | None, legs: list[Leg]) -> list[int | None]:
    """The call's cost split by the legs' seconds (the remainder on the first leg)."""
    if cost is None or not legs:
        return [None] * len(legs)
    total = sum(leg.seconds for leg in legs)
    if total <= 0:
        return [cost] + [0] * (len(legs) - 1)
    shares = [cost * leg.seconds // total for leg in legs]
    shares[0] += cost - sum(shares)
    return shares


def batch_rater() -> Rater:
    """A Rater shared by the hang-ups one process handles within RATER_SECONDS: a drain of
    many hang-ups loads the tenant's account and plan once, not once per call. A plan
    version added by staff is seen within that time (versions take effect by the day)."""
    global _rater, _rater_until
    now = time.monotonic()
    if _rater is None or now >= _rater_until:
        _rater, _rater_until = Rater(), now + RATER_SECONDS
    return _rater


def forget_batch_rater() -> None:
    """Tests: the next hang-up loads accounts and plans afresh."""
    global _rater
    _rater = None


RATER_SECONDS = 2.0
_rater: Rater | None = None
_rater_until = 0.0


def call_rate(*, call: Call, rater: Rater | None = None, save: bool = True) -> None:
    """Rate a call that has ended (or append its corrections); no-op while it goes on.

    Call inside the transaction that records the call; with `save=False` the caller saves
    the row after (`price`, `reserved` set here). Releases the click-to-call reservation
    once (claimed with a conditional update, so a replayed hang-up cannot release twice).
    """
    if call.state not in FINAL_STATES:
        return
    rater = rater or batch_rater()
    tenant_id = call.tenant_id
    release = 0
    if call.reserved and Call.objects.filter(pk=call.pk, reserved=call.reserved).update(reserved=0):
        release = call.reserved
    legs = billable_legs(call)
    prefix = f"call:{call.pk}:"
    # Sources by name (the unique index), not by prefix: a call has a handful of legs.
    known = [f"{prefix}{n}" for n in range(len(legs) + MAX_VANISHED_LEGS)]
    seen = (  # a call never rated has no entries: no query
        set()
        if call.price is None
        else set(
            UsageEntry.objects.filter(tenant_id=tenant_id, source__in=known)
            .values_list("source", flat=True)
            .distinct()
        )
    )
    at = call.start or call.created
    number_id = call.number_id
    total = 0
    for n, (leg, share) in enumerate(zip(legs, _shares(call.cost, legs), strict=True)):
        event = UsageEvent(
            kind="call",
            source=f"{prefix}{n}",
            occurred_at=at,
            to=leg.to,
            seconds=leg.seconds,
            country=country_of(leg.to),
            provider_cost=share,
            number_id=number_id,
        )
        rating = usage_record(
            tenant_id=tenant_id, event=event, release=release if n == 0 else 0, rater=rater
        )
        total += rating.price
    # A leg a later report no longer lists is corrected to nothing.
    for source in sorted(seen - {f"{prefix}{n}" for n in range(len(legs))}):
        gone = UsageEvent(
            kind="call", source=source, occurred_at=at, provider_cost=0, number_id=number_id
        )
        usage_record(tenant_id=tenant_id, event=gone, rater=rater)
    if not legs and release:
        spend_release(tenant_id=tenant_id, amount=release)
    if save and call.price != total:
        Call.objects.filter(pk=call.pk).update(price=total)
    call.price = total
    # After the claim the row holds 0 whoever released it: never write the old figure back.
    call.reserved = 0


def click_to_call_estimate(*, tenant_id: int, agent: str, customer: str) -> int:
    """The reservation for a click-to-call (see the module's docstring)."""
    minutes = settings.CALL_RESERVE_MINUTES
    rater = Rater()
    now = timezone.now()
    return sum(
        rater.quote(
            tenant_id=tenant_id,
            event=UsageEvent(
                kind="call",
                source="estimate",
                occurred_at=now,
                to=to,
                seconds=minutes * 60,
                provider_cost=minutes * settings.CALL_MINUTE_COST_ESTIMATE,
            ),
        ).price
        for to in (agent, customer)
    )


def click_to_call_reserve(*, tenant_id: int, agent: str, customer: str) -> int:
    """Reserve the estimate or raise billing's SpendRefused; returns the amount reserved."""
    amount = click_to_call_estimate(tenant_id=tenant_id, agent=agent, customer=customer)
    spend_reserve_or_refuse(tenant_id=tenant_id, amount=amount, what="the call")
    return amount


def call_reservation_release(*, call: Call) -> None:
    """The provider refused the call: give the reservation back (once)."""
    if call.reserved and Call.objects.filter(pk=call.pk, reserved=call.reserved).update(reserved=0):
        spend_release(tenant_id=call.tenant_id, amount=call.reserved)
        call.reserved = 0


def call_reservations_expire(*, tenant_id: int) -> int:
    """Release what click-to-calls still hold long after they were placed: 46elks never
    confirmed the call (a timeout) or its hang-up never came and the history did not list it.
    Run by the history sync; a call rated later still settles its real price."""
    cutoff = timezone.now() - timedelta(seconds=settings.CALL_RESERVATION_MAX_SECONDS)
    stale = list(Call.objects.filter(tenant_id=tenant_id, reserved__gt=0, created__lt=cutoff))
    for call in stale:
        call_reservation_release(call=call)
    return len(stale)

"""Writes for calls: calls started, click-to-call, recordings heard, call settings.

A call appears when 46elks asks `voice_start` (calls.webhooks, in the request, from the
database: that answer must not wait for a broker) and is completed by `whenhangup`
(calls.events). Recording downloads and retention are beat jobs (calls.recordings).
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Tenant, User
from billing.services import SpendRefused, spend_release
from calls.billing import call_reservation_release, click_to_call_reserve
from calls.models import Call, CallSettings, Recording
from core.phone import to_e164
from numbers.hooks import hook_url
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)


class CallError(Exception):
    """Refused; fit for the page."""


# elks_id is a CharField: its max_length is set (the stubs type it Optional for all fields).
CALLID_MAX: int = Call._meta.get_field("elks_id").max_length or 0


def settings_for(tenant: Tenant) -> CallSettings:
    found, _ = CallSettings.objects.get_or_create(tenant=tenant)
    return found


# --- inbound calls -------------------------------------------------------------------------


def call_started(*, number: PhoneNumber, payload: dict[str, str]) -> None:
    """Record an inbound call at `voice_start`: one INSERT that a replay cannot repeat."""
    callid = payload.get("callid") or payload.get("id")
    if not callid or number.tenant_id is None:
        return
    if len(callid) > CALLID_MAX:
        log.warning("voice_start with a malformed callid (%d characters)", len(callid))
        return  # not a 46elks call id; an INSERT would fail and end the call
    other = payload.get("from", "")[:20]
    Call.objects.model._base_manager.bulk_create(
        [
            Call(
                tenant_id=number.tenant_id,
                elks_id=callid,
                direction=Call.Direction.IN,
                state=Call.State.ONGOING,
                source=Call.Source.INBOUND,
                number=number,
                ours=number.number,
                other=other,
            )
        ],
        ignore_conflicts=True,
    )


def recording_mark_heard(*, recording: Recording) -> None:
    if recording.heard is None:
        Recording.objects.filter(pk=recording.pk).update(heard=timezone.now())


# --- click-to-call -------------------------------------------------------------------------


def click_to_call(
    *,
    tenant: Tenant,
    user: User | None,
    number: PhoneNumber,
    to: str,
    request_key: uuid.UUID,
    agent: str | None = None,
    timeout: int = 30,
) -> Call:
    """Ring the user's own phone first, then connect the customer with our number as caller id.

    Claimed by a Call row unique on the request key: a double click places one call. The
    estimated price is reserved first (calls.billing); refused, nothing reaches 46elks.
    Through the API there is no user: the phone rung first is given as `agent`.
    """
    first = agent or (user.phone if user is not None else "")
    if not first:
        if user is None:
            raise CallError("Give the phone to ring first (agent): 46elks rings it first.")
        raise CallError("Add your own phone number to your profile first: 46elks rings it first.")
    if number.status != PhoneNumber.Status.ACTIVE or not number.has_voice:
        raise CallError("Choose an active number with voice.")
    region = (number.country or "se").upper()
    try:
        customer = to_e164(to, region=region)
        agent = to_e164(first, region=region)
    except Exception as exc:
        raise CallError(str(getattr(exc, "message", exc))) from exc
    existing = Call.objects.filter(request_key=request_key).first()
    if existing is not None:
        return existing
    try:
        reserved = click_to_call_reserve(tenant_id=tenant.pk, agent=agent, customer=customer)
    except SpendRefused as exc:
        raise CallError(str(exc)) from exc
    try:
        with transaction.atomic():
            call = Call.objects.create(
                request_key=request_key,
                tenant=tenant,
                direction=Call.Direction.OUT,
                state=Call.State.QUEUED,
                source=Call.Source.CLICK_TO_CALL,
                number=number,
                ours=number.number,
                other=customer,
                agent_phone=agent,
                placed_by=user,
                reserved=reserved,
            )
    except IntegrityError:  # a concurrent submission of the same form won the claim
        spend_release(tenant_id=tenant.pk, amount=reserved)
        return Call.objects.get(request_key=request_key)
    try:
        remote = elks_for_tenant(tenant).call_create(
            from_=number.number,
            to=agent,
            voice_start={"connect": customer, "callerid": number.number},
            whenhangup=hook_url(number, "hangup"),
            timeout=timeout,
        )
    except ElksError as exc:
        state = Call.State.UNKNOWN if exc.maybe_accepted else Call.State.FAILED
        Call.objects.filter(pk=call.pk).update(
            state=state, error=str(exc)[:500], updated=timezone.now()
        )
        if state == Call.State.FAILED:
            call_reservation_release(call=call)  # else kept until the hang-up or history
        call.refresh_from_db()
        if state == Call.State.FAILED:
            raise CallError(f"46elks could not place the call: {exc}") from exc
        return call
    Call.objects.filter(pk=call.pk).update(
        elks_id=remote.id, state=Call.State.ONGOING, updated=timezone.now()
    )
    call.refresh_from_db()
    return call

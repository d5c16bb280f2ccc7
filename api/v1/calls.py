"""/api/v1/calls: the call log with cursor paging and filters, one call, and click-to-call.

Click-to-call is `calls.services.click_to_call`, as the dial page: the estimated price is
reserved before 46elks is asked, and the request key (from the Idempotency-Key) makes a retry
find the call the first request placed. Through the API there is no signed-in user, so the
phone to ring first (`agent`) is part of the request. See docs/api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.errors import ApiDenied, scope_require
from api.idempotency import request_key
from api.request_types import KeyRequest
from api.v1.paging import moment, page_of
from api.v1.schemas import (
    ERRORS,
    IDEMPOTENCY_KEY,
    MAX_PAGE,
    Address,
    CallDirection,
    CallSource,
    CallState,
    Cursor,
    Id,
    Problem,
    Text,
)
from billing.services import SpendRefused
from calls.models import Call, Recording
from calls.services import CallError, click_to_call
from numbers.models import PhoneNumber

router = Router(tags=["Calls"])


class CallOut(Schema):
    id: int
    direction: CallDirection
    state: CallState
    outcome: str = Field(description="What happened, in words (voicemail, missed, ...).")
    source: CallSource
    from_: str = Field(alias="from")
    to: str
    agent: str = Field(description="Click-to-call: the phone rung first.")
    created: datetime
    start: datetime | None
    duration: int | None = Field(description="Seconds.")
    price: int | None = Field(description="Your price, in 1/10000 of the currency.")
    price_pending: bool
    error: str
    recordings: list[int]

    @staticmethod
    def of(call: Call, recordings: list[int]) -> dict[str, object]:
        outbound = call.direction == Call.Direction.OUT
        return {
            "id": call.pk,
            "direction": call.direction,
            "state": call.state,
            "outcome": call.outcome,
            "source": call.source,
            "from": call.ours if outbound else call.other,
            "to": call.other if outbound else call.ours,
            "agent": call.agent_phone,
            "created": call.created,
            "start": call.start,
            "duration": call.duration,
            "price": call.price,
            "price_pending": call.price_pending,
            "error": call.error,
            "recordings": recordings,
        }


class CallPage(Cursor):
    items: list[CallOut]


class DialIn(Schema):
    from_: Address = Field(alias="from", description="Your number with voice: the caller id.")
    to: Text = Field(min_length=1, max_length=40, description="Whom to call.")
    agent: Text = Field(
        min_length=1, max_length=40, description="The phone 46elks rings first (yours)."
    )


def _recordings(calls: list[Call]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {c.pk: [] for c in calls}
    rows = Recording.objects.filter(call__in=calls).order_by("created", "id")
    for call_id, pk in rows.values_list("call_id", "pk"):
        if call_id is not None:
            found[call_id].append(pk)
    return found


@router.get("", response={200: CallPage, **ERRORS}, by_alias=True, summary="List calls")
def call_list(
    request: KeyRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    direction: Literal["in", "out"] | None = None,
    state: CallState | None = None,
    number: Annotated[Address | None, Query(description="Your number on the call.")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Created before this time.")] = None,
) -> dict[str, object]:
    """Newest first. Pass `next` back as `cursor` for the following page."""
    scope_require(request, "read")
    qs = Call.objects.all()
    exact = {"direction": direction, "state": state, "ours": number}
    qs = qs.filter(**{field: value for field, value in exact.items() if value})
    if start := moment(since, "since"):
        qs = qs.filter(created__gte=start)
    if end := moment(until, "until"):
        qs = qs.filter(created__lt=end)
    page = page_of(qs, cursor=cursor, limit=limit)
    recordings = _recordings(list(page.items))
    return {
        "items": [CallOut.of(c, recordings[c.pk]) for c in page.items],
        "next": page.next_cursor,
    }


@router.get("/{call_id}", response={200: CallOut, **ERRORS}, by_alias=True, summary="Get a call")
def call_get(request: KeyRequest, call_id: Id) -> dict[str, object]:
    scope_require(request, "read")
    call = get_object_or_404(Call, pk=call_id)
    return CallOut.of(call, _recordings([call])[call.pk])


@router.post(
    "",
    response={201: CallOut, **ERRORS, 402: Problem},
    by_alias=True,
    summary="Click-to-call",
    openapi_extra=IDEMPOTENCY_KEY,
)
def call_create(request: KeyRequest, payload: DialIn) -> Status[dict[str, object]]:
    """46elks rings `agent` first; when answered, it connects `to` with `from` as caller id."""
    scope_require(request, "calls")
    number = PhoneNumber.objects.filter(tenant=request.tenant, number=payload.from_).first()
    if number is None:
        raise ApiDenied(400, f"from: {payload.from_} is not one of your numbers.")
    try:
        call = click_to_call(
            tenant=request.tenant,
            user=None,
            number=number,
            to=payload.to,
            request_key=request_key(request),
            agent=payload.agent,
        )
    except CallError as exc:
        status = 402 if isinstance(exc.__cause__, SpendRefused) else 400
        raise ApiDenied(status, str(exc)) from None
    return Status(201, CallOut.of(call, []))

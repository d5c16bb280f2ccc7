"""/api/v1/messages: send SMS and MMS, list the log with cursor paging, get one with its
delivery timeline. See docs/api.md.

A send goes through `messaging.services.sms_queue` as the compose page's does (sender-name
rules, opt-out ledger, parts limit, spend reservation), with its request key derived from the
Idempotency-Key: a retry finds the messages the first request queued instead of sending again.
Prices are the tenant's (`price`, `reserved`); 46elks' `cost` never leaves the building.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
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
    Cursor,
    Id,
    MessageDirection,
    MessageKind,
    MessageSource,
    MessageStatus,
    Problem,
    Text,
)
from messaging.images import ImageBytes, ImageRefused, data_uri_image, images_attach
from messaging.models import Message
from messaging.services import (
    SendError,
    recipients_parse,
    settings_for,
    sms_queue,
)

router = Router(tags=["Messages"])

MAX_RECIPIENTS = 1000
MAX_BODY = 10_000
SEND_ERRORS = {**ERRORS, 402: Problem}

Recipient = Annotated[Text, Field(min_length=1, max_length=40)]
Recipients = (
    Annotated[Text, Field(min_length=1, max_length=MAX_RECIPIENTS * 21)]
    | Annotated[list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)]
)


class Timeline(Schema):
    """When the message reached each step, and why it failed if it did."""

    queued: datetime
    sent: datetime | None
    delivered: datetime | None
    failed: datetime | None
    error: str


class MessageOut(Schema):
    id: int
    kind: MessageKind
    direction: MessageDirection
    status: MessageStatus
    source: MessageSource
    from_: str = Field(alias="from")
    to: str
    body: str
    flash: bool
    parts: int | None
    price: int | None = Field(description="Your price so far, in 1/10000 of the currency.")
    reserved: int = Field(description="Held against your limit or balance until it is priced.")
    price_pending: bool
    created: datetime

    @staticmethod
    def of(message: Message) -> dict[str, object]:
        outbound = message.direction == Message.Direction.OUT
        return {
            "id": message.pk,
            "kind": message.kind,
            "direction": message.direction,
            "status": message.status,
            "source": message.source,
            "from": message.ours if outbound else message.other,
            "to": message.other if outbound else message.ours,
            "body": message.body,
            "flash": message.flash,
            "parts": message.parts,
            "price": message.price,
            "reserved": message.reserved,
            "price_pending": message.price_pending,
            "created": message.created,
        }


class MessageDetail(MessageOut):
    timeline: Timeline
    images: int = Field(description="How many images the MMS carries.")


class MessagePage(Cursor):
    items: list[MessageOut]


class Queued(Schema):
    messages: list[MessageOut]


class SendIn(Schema):
    from_: Address = Field(
        alias="from", description="One of your numbers, or an approved sender name (SMS only)."
    )
    to: Recipients = Field(
        description="A number, several separated by commas, or a list of numbers."
    )
    body: Text = Field("", max_length=MAX_BODY)
    flash: bool = False
    delivery_report: bool = True
    image: Text | None = Field(
        None,
        description="An MMS image as a data: URI (JPEG, PNG or GIF): the message is sent as MMS.",
        max_length=4 * settings.MMS_MAX_BYTES // 3 + 100,
    )


# The API's words for an image that is not one we send (messaging.images.ImageRefused).
IMAGE_REFUSALS = {
    "not_base64_uri": "image: give the image as a data: URI with base64 content.",
    "bad_base64": "image: the base64 content is not valid.",
    "too_large": "image: the image is too large: at most {kb} kB.",
    "not_an_image": "image: only JPEG, PNG and GIF images can be sent.",
}


def _image(uri: str) -> ImageBytes:
    """The image of a data: URI, by what its bytes are (not what it claims to be)."""
    try:
        return data_uri_image(uri)
    except ImageRefused as exc:
        kb = settings.MMS_MAX_BYTES // 1000
        raise ApiDenied(400, IMAGE_REFUSALS[exc.reason].format(kb=kb)) from None


def _refusal(exc: SendError) -> ApiDenied:
    """The compose page's refusal, with the status a program can act on: 402 for money, 403
    for a rule (opt-out, an unapproved sender name), 400 for the request itself."""
    status = {"spend": 402, "optout": 403, "sender_name": 403}.get(exc.rule, 400)
    return ApiDenied(status, str(exc))


@router.post(
    "",
    response={202: Queued, **SEND_ERRORS},
    by_alias=True,
    summary="Send SMS or MMS",
    openapi_extra=IDEMPOTENCY_KEY,
)
def message_send(request: KeyRequest, payload: SendIn) -> Status[dict[str, object]]:
    """Queue one message per recipient; 46elks is called by a worker right after. With an
    `Idempotency-Key`, a retry answers the first response and sends nothing more."""
    scope_require(request, "send")
    tenant = request.tenant
    image = _image(payload.image) if payload.image is not None else None
    kind = Message.Kind.MMS if image is not None else Message.Kind.SMS
    region = settings_for(tenant).default_country
    try:
        to = recipients_parse(payload.to, region=region)
    except SendError as exc:
        raise ApiDenied(400, f"to: {exc}") from None
    if len(to) > MAX_RECIPIENTS:
        raise ApiDenied(400, f"to: at most {MAX_RECIPIENTS} recipients per request.")
    try:
        with transaction.atomic():
            queued = sms_queue(
                tenant=tenant,
                sender=payload.from_,
                recipients=to,
                body=payload.body,
                request_key=request_key(request),
                actor=None,
                flash=payload.flash,
                delivery_report=payload.delivery_report,
                kind=kind,
                source=Message.Source.API,
            )
            if image is not None:
                images_attach(queued=queued, image=image)
    except SendError as exc:
        raise _refusal(exc) from None
    return Status(202, {"messages": [MessageOut.of(m) for m in queued]})


def _filtered(
    *,
    direction: str | None,
    status: str | None,
    kind: str | None,
    number: str | None,
    sender: str | None,
    to: str | None,
    since: datetime | None,
    until: datetime | None,
) -> QuerySet[Message]:
    qs = Message.objects.all()
    exact = {"direction": direction, "status": status, "kind": kind, "ours": number}
    qs = qs.filter(**{field: value for field, value in exact.items() if value})
    out, inbound = Message.Direction.OUT, Message.Direction.IN
    if sender:
        qs = qs.filter(Q(direction=out, ours=sender) | Q(direction=inbound, other=sender))
    if to:
        qs = qs.filter(Q(direction=out, other=to) | Q(direction=inbound, ours=to))
    if since := moment(since, "since"):
        qs = qs.filter(created__gte=since)
    if until := moment(until, "until"):
        qs = qs.filter(created__lt=until)
    return qs


@router.get("", response={200: MessagePage, **ERRORS}, by_alias=True, summary="List messages")
def message_list(
    request: KeyRequest,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next` of the previous page.")
    ] = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    direction: Literal["in", "out"] | None = None,
    status: MessageStatus | None = None,
    kind: MessageKind | None = None,
    number: Annotated[
        Address | None, Query(description="Your number (or sender name) used.")
    ] = None,
    sender: Annotated[Address | None, Query(alias="from", description="Who sent it.")] = None,
    to: Annotated[Address | None, Query(description="Who received it.")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Created before this time.")] = None,
) -> dict[str, object]:
    """Newest first. Pass `next` back as `cursor` for the following page."""
    scope_require(request, "read")
    qs = _filtered(
        direction=direction,
        status=status,
        kind=kind,
        number=number,
        sender=sender,
        to=to,
        since=since,
        until=until,
    )
    page = page_of(qs, cursor=cursor, limit=limit)
    return {"items": [MessageOut.of(m) for m in page.items], "next": page.next_cursor}


@router.get(
    "/{message_id}", response={200: MessageDetail, **ERRORS}, by_alias=True, summary="Get a message"
)
def message_get(request: KeyRequest, message_id: Id) -> dict[str, object]:
    scope_require(request, "read")
    message = get_object_or_404(Message, pk=message_id)
    return {
        **MessageOut.of(message),
        "timeline": {
            "queued": message.created,
            "sent": message.sent_at,
            "delivered": message.delivered_at,
            "failed": message.failed_at,
            "error": message.error,
        },
        "images": message.images.count(),
    }

"""Our rows -> the JSON shapes 46elks answers with (providers/elks/sandbox/render.py).

Times are 46elks' formats: zoneless UTC with microseconds (`created`), seconds with a Z
(`delivered`), seconds without a fraction (`expires`). Money is always the tenant's own
price (`Message.price`, `Call.price`, the reservation while a send is in flight), never
46elks' cost. Keys whose value we do not have are left out, as 46elks leaves them out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.elks.ids import call_public_id, message_public_id, number_public_id, recording_public_id
from calls.models import Call
from calls.selectors import PROVIDER_ONLY, Recording
from messaging.models import Message
from numbers.models import PhoneNumber

Shape = dict[str, Any]

# Our message states in 46elks' words: before 46elks has accepted a send it is "created"
# (46elks' own first state); a lost answer stays "created" until it is settled.
MESSAGE_STATUS = {
    Message.Status.QUEUED: "created",
    Message.Status.SENDING: "created",
    Message.Status.UNKNOWN: "created",
    Message.Status.CREATED: "created",
    Message.Status.SENT: "sent",
    Message.Status.DELIVERED: "delivered",
    Message.Status.FAILED: "failed",
}
CALL_STATE = {
    Call.State.QUEUED: "ongoing",
    Call.State.ONGOING: "ongoing",
    Call.State.UNKNOWN: "ongoing",
    Call.State.SUCCESS: "success",
    Call.State.BUSY: "busy",
    Call.State.FAILED: "failed",
}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def ts(value: datetime) -> str:
    """46elks' usual format: zoneless UTC with microseconds."""
    return _utc(value).isoformat(timespec="microseconds")


def ts_z(value: datetime) -> str:
    """The `delivered` format: seconds with a trailing Z."""
    return _utc(value).isoformat(timespec="seconds") + "Z"


def ts_plain(value: datetime) -> str:
    """The `expires` format: no fraction."""
    return _utc(value).isoformat(timespec="seconds")


def _drop_none(data: Shape) -> Shape:
    return {k: v for k, v in data.items() if v is not None}


def message(row: Message, *, owner: str, image_count: int = 0) -> Shape:
    outgoing = row.direction == Message.Direction.OUT
    public_id = message_public_id(row)
    text: str | None = row.body
    if row.dontlog or row.body_blanked or (row.kind == Message.Kind.MMS and not row.body):
        text = None  # dontlog=message: later reads leave the text out, as 46elks does
    data: Shape = {
        "id": public_id,
        "status": MESSAGE_STATUS.get(Message.Status(row.status)) if outgoing else None,
        "direction": "outgoing" if outgoing else "incoming",
        "from": row.ours if outgoing else row.other,
        "to": row.other if outgoing else row.ours,
        "message": text,
        "created": ts(row.created),
        "delivered": ts_z(row.delivered_at) if row.delivered_at else None,
        "cost": message_price(row),
        "owner": owner,
    }
    if row.kind == Message.Kind.SMS:
        data["parts"] = row.parts
        if row.flash:
            data["flashsms"] = "yes"
    else:
        data["images"] = [f"{public_id}-i{n}" for n in range(image_count)]
    return _drop_none(data)


def message_price(row: Message) -> int | None:
    """The tenant's price; while a send is in flight, the estimate reserved for it."""
    if row.price is not None:
        return row.price
    return row.reserved or None


def sms_created(row: Message, *, owner: str) -> Shape:
    """The answer to POST /a1/sms: the stored shape, the text always included."""
    return message(row, owner=owner) | {"message": row.body if not row.body_blanked else ""}


def sms_dry_run(*, sender: str, to: str, text: str, parts: int, price: int) -> Shape:
    return {
        "status": "created",
        "direction": "outgoing",
        "from": sender,
        "to": to,
        "message": text,
        "parts": parts,
        "estimated_cost": price,
        "created": ts(datetime.now(UTC)),
    }


def call(row: Call) -> Shape:
    # An API or click-to-call call rings `agent_phone` first, as 46elks' `to`.
    rung = row.agent_phone or row.other
    outgoing = row.direction == Call.Direction.OUT
    return _drop_none(
        {
            "id": call_public_id(row.pk),
            "direction": "outgoing" if outgoing else "incoming",
            "from": row.ours if outgoing else row.other,
            "to": rung if outgoing else row.ours,
            "state": CALL_STATE.get(Call.State(row.state), "ongoing"),
            "created": ts(row.created),
            "start": ts(row.start) if row.start else None,
            "duration": row.duration,
            # 46elks shows call costs as strings; the value is the tenant's price.
            "cost": str(row.price) if row.price is not None else None,
            # No `actions`: they are the console's own call plan, with the callback URLs
            # (their tokens are the only key to our hooks). Legs without 46elks' cost.
            "legs": _legs(row.legs) or None,
        }
    )


def _legs(legs: object) -> list[object]:
    if not isinstance(legs, list):
        return []
    return [
        {k: v for k, v in leg.items() if k not in PROVIDER_ONLY} if isinstance(leg, dict) else leg
        for leg in legs
    ]


def number(row: PhoneNumber) -> Shape:
    """46elks' number shape. `sms_url` is the tenant's own webhook, if it set one; our
    internal callback URLs (tokens) never appear, so `mms_url` and `voice_start` are left
    out (voice routing is configured in the console)."""
    active = row.status == PhoneNumber.Status.ACTIVE
    return _drop_none(
        {
            "id": number_public_id(row.pk),
            "number": row.number,
            "country": row.country.lower(),
            "category": row.category,
            "capabilities": row.capabilities,
            "active": "yes" if active else "no",
            "sms_url": row.sms_webhook_url or None,
            "name": row.label or None,
            "created": ts(row.created),
            "allocated": ts(row.allocated_at) if row.allocated_at else None,
            "expires": ts_plain(row.expires) if row.expires else None,
            "deallocated": ts(row.released_at) if row.released_at and not active else None,
        }
    )


def recording(row: Recording) -> Shape:
    return {"id": recording_public_id(row.pk), "created": ts(row.created), "duration": row.duration}


def page(items: list[Shape], next_created: datetime | None) -> Shape:
    body: Shape = {"data": items}
    if next_created is not None:
        body["next"] = ts(next_created)
    return body

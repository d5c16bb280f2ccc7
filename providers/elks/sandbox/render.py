"""Stored rows -> the JSON shapes 46elks answers with.

Formats are deliberately mixed as at 46elks (``active`` as "yes"/"no", ``expires`` without a
fraction, ``delivered`` with a Z) so the client's lenient parsing is exercised.
"""

from __future__ import annotations

import json
from typing import Any

Row = dict[str, Any]


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _drop_none(data: Row) -> Row:
    return {k: v for k, v in data.items() if v is not None}


def subaccount(row: Row, *, with_usage: bool = True) -> Row:
    """46elks' current docs: ``balanceused`` only once something was spent. The seed (an
    older API reference) shows ``usage`` on every read of an existing subaccount, so that is
    kept too (the same amount); a creation answer has neither."""
    data: Row = {
        "id": row["id"],
        "name": row["name"],
        "created": row["created"],
        "active": _yes_no(row["active"]),
        "usagelimit": row["usagelimit"],
        "balanceused": row["balanceused"],  # absent until something was spent
        "usage": (row["balanceused"] or 0) if with_usage else None,
    }
    if row["active"]:
        data["secret"] = row["secret"]
    else:
        data["deactivated"] = row["deactivated"]
    return _drop_none(data)


def number(row: Row) -> Row:
    return _drop_none(
        {
            "id": row["id"],
            "number": row["number"],
            "country": row["country"],
            "category": row["category"],
            "capabilities": row["capabilities"].split(","),
            "active": _yes_no(row["active"]),
            "sms_url": row["sms_url"],
            "mms_url": row["mms_url"],
            "voice_start": row["voice_start"],
            "sms_replies": _yes_no(row["sms_replies"]),
            "name": row["name"],
            "created": row["created"],
            # Numbers are allocated when created here (46elks lists both fields).
            "allocated": row["created"],
            "expires": row["expires"],
            "deallocated": row["deallocated"],
        }
    )


def message(row: Row) -> Row:
    data: Row = {
        "id": row["id"],
        "status": row["status"],
        "direction": row["direction"],
        "from": row["sender"],
        "to": row["recipient"],
        "message": row["message"],
        "created": row["created"],
        "delivered": row["delivered"],
        "cost": row["cost"],
        "owner": row["owner"],
    }
    if row["kind"] == "sms":
        data["parts"] = row["parts"]
        if row["flashsms"]:
            data["flashsms"] = "yes"
    else:
        data["images"] = json.loads(row["images"] or "[]")
    return _drop_none(data)


def call(row: Row) -> Row:
    return _drop_none(
        {
            "id": row["id"],
            "direction": row["direction"],
            "from": row["sender"],
            "to": row["recipient"],
            "state": row["state"],
            "created": row["created"],
            "start": row["start"],
            "duration": row["duration"],
            # The seed shows call costs as strings; keep that quirk.
            "cost": str(row["cost"]) if row["cost"] is not None else None,
            "actions": json.loads(row["actions"]) if row["actions"] else None,
            "legs": json.loads(row["legs"]) if row["legs"] else None,
        }
    )


def recording(row: Row) -> Row:
    return {"id": row["id"], "created": row["created"], "duration": row["duration"]}


def image(row: Row) -> Row:
    return {
        "id": row["id"],
        "mmsid": row["mmsid"],
        "created": row["created"],
        "bytes": len(row["data"]),
        "digest": row["digest"],
        "filetype": row["filetype"],
    }

"""Sandbox API for SMS, MMS, calls, recordings and images; ``Api`` is the whole ``/a1``."""

from __future__ import annotations

import json

from . import render
from .api_accounts import AccountsApi
from .api_base import Caller, Params, Reply, allow, require
from .rules import (
    ApiError,
    check_e164,
    check_url,
    check_url_or_action,
    check_yes_no,
    missing,
    mms_price,
    new_id,
    sms_parts,
    sms_unit_price,
    tiny_png,
)

__all__ = ["Api", "Caller", "Reply"]


class Api(AccountsApi):
    # -- SMS and MMS -------------------------------------------------------------------------

    def sms_get_list(self, caller: Caller, params: Params) -> Reply:
        where, values = ["kind = 'sms'"], []
        if "to" in params:
            where.append("recipient = ?")
            values.append(params["to"])
        return self._page(
            caller, "messages", params, render.message, extra={"to"}, where=where, values=values
        )

    def sms_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        row = self._owned(caller, "messages", item)
        if row["kind"] != "sms":
            raise ApiError(404, "Not found")
        return Reply.json(render.message(row))

    def sms_post_list(self, caller: Caller, params: Params) -> Reply:
        allow(params, {"from", "to", "message", "whendelivered", "flashsms", "dryrun", "dontlog"})
        sender = require(params, "from")
        to = check_e164(require(params, "to"), "to")
        text = require(params, "message")
        self._sender(caller, sender, "sms")
        if "whendelivered" in params:
            check_url(params["whendelivered"], "whendelivered")
        flash = check_yes_no(params["flashsms"], "flashsms") if "flashsms" in params else False
        dryrun = check_yes_no(params["dryrun"], "dryrun") if "dryrun" in params else False
        if params.get("dontlog", "message") != "message":
            raise ApiError(400, 'Invalid "dontlog": the only value is "message"')
        parts, _ = sms_parts(text)
        cost = parts * sms_unit_price(to)
        if dryrun:
            # Nothing is stored or charged: no id, estimated_cost instead of cost.
            return Reply.json(
                {
                    "status": "created",
                    "direction": "outgoing",
                    "from": sender,
                    "to": to,
                    "message": text,
                    "parts": parts,
                    "estimated_cost": cost,
                    "created": self.store.now(),
                }
            )
        row = {
            "id": new_id("s"),
            "kind": "sms",
            "owner": caller.id,
            "direction": "outgoing",
            "sender": sender,
            "recipient": to,
            "message": None if "dontlog" in params else text,
            "status": "created",
            "cost": cost,
            "parts": parts,
            "created": self.store.now(),
            "delivered": None,
            "whendelivered": params.get("whendelivered"),
            "flashsms": 1 if flash else 0,
            "images": None,
        }
        with self.store.lock:
            self.store.charge(caller.id, cost)
            self.store.insert("messages", row)
        self.sim.sms_sent(row)
        return Reply.json(render.message(row) | {"message": text})

    def mms_get_list(self, caller: Caller, params: Params) -> Reply:
        return self._page(caller, "messages", params, render.message, where=["kind = 'mms'"])

    def mms_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        row = self._owned(caller, "messages", item)
        if row["kind"] != "mms":
            raise ApiError(404, "Not found")
        return Reply.json(render.message(row))

    def mms_post_list(self, caller: Caller, params: Params) -> Reply:
        allow(params, {"from", "to", "message", "image"})
        sender = require(params, "from")
        to = check_e164(require(params, "to"), "to")
        if not params.get("message") and not params.get("image"):
            raise missing("message")
        self._sender(caller, sender, "mms")
        image = params.get("image")
        if image and not image.startswith("data:image/"):
            check_url(image, "image")
        mms_id = new_id("m")
        row = {
            "id": mms_id,
            "kind": "mms",
            "owner": caller.id,
            "direction": "outgoing",
            "sender": sender,
            "recipient": to,
            "message": params.get("message"),
            "status": "sent",
            "cost": mms_price(to),
            "parts": None,
            "created": self.store.now(),
            "delivered": None,
            "whendelivered": None,
            "flashsms": 0,
            "images": json.dumps([f"{mms_id}-i0"] if image else []),
        }
        with self.store.lock:
            self.store.charge(caller.id, row["cost"])
            self.store.insert("messages", row)
            if image:
                # The sandbox does not fetch the URL: it stores a placeholder picture.
                self.store.insert_image(f"{mms_id}-i0", mms_id, caller.id, tiny_png((200, 80, 40)))
        return Reply.json(render.message(row))

    # -- calls, recordings, images -----------------------------------------------------------

    def calls_get_list(self, caller: Caller, params: Params) -> Reply:
        return self._page(caller, "calls", params, render.call)

    def calls_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        return Reply.json(render.call(self._owned(caller, "calls", item)))

    def calls_post_list(self, caller: Caller, params: Params) -> Reply:
        allow(params, {"from", "to", "voice_start", "whenhangup", "timeout"})
        sender = check_e164(require(params, "from"), "from")
        to = check_e164(require(params, "to"), "to")
        voice_start = require(params, "voice_start")
        if voice_start.lstrip().startswith("{") or voice_start.startswith(("http:", "https:")):
            check_url_or_action(voice_start, "voice_start")
        # Any other text is accepted as the seed's own example shows ("voice_start = Hi! This is
        # your message." answered 200): the call then fails when answered, as its call list shows.
        self._sender(caller, sender, "voice")
        if "whenhangup" in params:
            check_url(params["whenhangup"], "whenhangup")
        timeout = None
        if "timeout" in params:
            if not params["timeout"].isdigit() or not 1 <= int(params["timeout"]) <= 120:
                raise ApiError(400, 'Invalid "timeout": seconds between 1 and 120')
            timeout = int(params["timeout"])
        sub = self.store.get("subaccounts", caller.id)
        if sub and sub["usagelimit"] is not None and (sub["balanceused"] or 0) >= sub["usagelimit"]:
            raise ApiError(403, "Usage limit exceeded for this subaccount")
        row = {
            "id": new_id("c"),
            "owner": caller.id,
            "direction": "outgoing",
            "sender": sender,
            "recipient": to,
            "state": "ongoing",
            "created": self.store.now(),
            "start": None,
            "duration": None,
            "cost": None,
            "voice_start": voice_start,
            "whenhangup": params.get("whenhangup"),
            "timeout": timeout,
            "actions": None,
            "legs": None,
        }
        self.store.insert("calls", row)
        self.sim.call_started(row)
        return Reply.json(render.call(row))

    def recordings_get_list(self, caller: Caller, params: Params) -> Reply:
        return self._page(caller, "recordings", params, render.recording)

    def recordings_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        if item.endswith(".wav"):
            row = self._owned(caller, "recordings", item[:-4])
            return Reply(200, row["wav"], "audio/wav")
        return Reply.json(render.recording(self._owned(caller, "recordings", item)))

    def images_get_list(self, caller: Caller, params: Params) -> Reply:
        return self._page(caller, "images", params, render.image)

    def images_get_item(self, caller: Caller, params: Params, item: str) -> Reply:
        allow(params, set())
        stem, _, ext = item.rpartition(".")
        if stem and ext in ("jpg", "jpeg", "png", "gif"):
            row = self._owned(caller, "images", stem)
            return Reply(200, row["data"], f"image/{row['filetype']}")
        return Reply.json(render.image(self._owned(caller, "images", item)))

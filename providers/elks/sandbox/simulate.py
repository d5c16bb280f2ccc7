"""What happens after a request, in the background, the way 46elks would do it.

- an outgoing SMS moves ``created`` -> ``sent`` -> ``delivered``/``failed`` with a delivery report
  to ``whendelivered`` at each step;
- an inbound SMS/MMS is stored and posted to the number's ``sms_url``/``mms_url``; a plain-text
  answer becomes a reply SMS (unless ``sms_replies`` is off), ``{"forward": ...}`` a forward;
- a call (outgoing from the API, or inbound via the control API) fetches ``voice_start``, runs
  the returned actions (connect/play/ivr/record/recordcall/hangup, following ``next``), posts
  recordings, and ends with ``whenhangup``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import render
from .callbacks import Dispatcher, Job
from .config import SandboxConfig
from .rules import (
    SENDER_ID,
    ApiError,
    call_price,
    check_e164,
    new_id,
    sms_parts,
    sms_unit_price,
    tiny_png,
    tiny_wav,
    ts_z,
)
from .store import Store

Row = dict[str, Any]
_MAX_STEPS = 10


class Simulator:
    def __init__(
        self,
        store: Store,
        config: SandboxConfig,
        dispatcher: Dispatcher,
        api_url: Callable[[], str],
    ) -> None:
        self.store = store
        self.config = config
        self.dispatcher = dispatcher
        self.api_url = api_url

    def _fails(self, number: str) -> bool:
        suffix = self.config.fail_suffix
        return bool(suffix) and number.endswith(str(suffix))

    # -- SMS ---------------------------------------------------------------------------------

    def sms_sent(self, row: Row) -> None:
        sms_id, url = row["id"], row["whendelivered"]
        failed = self._fails(row["recipient"])

        def work(job: Job) -> None:
            job.sleep(self.config.event_delay)
            self.store.update("messages", sms_id, {"status": "sent"})
            if url:
                job.post("delivery", url, {"id": sms_id, "status": "sent"}, ref=sms_id)
            job.sleep(self.config.event_delay)
            if failed:
                self.store.update("messages", sms_id, {"status": "failed"})
                report = {"id": sms_id, "status": "failed"}
            else:
                delivered = ts_z(self.store.clock.now())
                self.store.update(
                    "messages", sms_id, {"status": "delivered", "delivered": delivered}
                )
                report = {"id": sms_id, "status": "delivered", "delivered": delivered}
            if url:
                job.post("delivery", url, report, ref=sms_id)

        self.dispatcher.submit(work)

    def _number_for(self, to: str, capability: str) -> Row:
        check_e164(to, "to")
        number = self.store.one("SELECT * FROM numbers WHERE number = ? AND active = 1", (to,))
        if number is None:
            raise ApiError(404, f"{to} is not an active number in the sandbox")
        if capability not in number["capabilities"].split(","):
            raise ApiError(400, f'{to} has no "{capability}" capability')
        return number

    def _outgoing_sms(self, number: Row, to: str, text: str, direction: str) -> None:
        parts, _ = sms_parts(text)
        row = {
            "id": new_id("s"),
            "kind": "sms",
            "owner": number["owner"],
            "direction": direction,
            "sender": number["number"],
            "recipient": to,
            "message": text,
            "status": "created",
            "cost": parts * sms_unit_price(to),
            "parts": parts,
            "created": self.store.now(),
            "delivered": None,
            "whendelivered": None,
            "flashsms": 0,
            "images": None,
        }
        try:
            with self.store.lock:
                self.store.charge(number["owner"], row["cost"])
                self.store.insert("messages", row)
        except ApiError:
            return  # over the limit: 46elks drops the reply
        self.sms_sent(row)

    def inbound_sms(self, *, to: str, from_: str, message: str) -> Row:
        if not SENDER_ID.match(from_):
            check_e164(from_, "from")
        number = self._number_for(to, "sms")
        row = {
            "id": new_id("s"),
            "kind": "sms",
            "owner": number["owner"],
            "direction": "incoming",
            "sender": from_,
            "recipient": to,
            "message": message,
            "status": None,
            "cost": None,
            "parts": sms_parts(message)[0] if message else 1,
            "created": self.store.now(),
            "delivered": None,
            "whendelivered": None,
            "flashsms": 0,
            "images": None,
        }
        self.store.insert("messages", row)
        url = number["sms_url"]
        payload = {
            "id": row["id"],
            "from": from_,
            "to": to,
            "message": message,
            "direction": "incoming",
            "created": row["created"],
        }

        def work(job: Job) -> None:
            if url.lstrip().startswith("{"):
                answer_text = url
            else:
                answer = job.post("sms", url, payload, ref=row["id"])
                answer_text = answer.body.strip() if answer else ""
            if not answer_text:
                return
            action = _json_object(answer_text)
            if action is not None:
                if isinstance(action.get("forward"), str):
                    self._outgoing_sms(number, action["forward"], message, "outgoing")
                elif isinstance(action.get("reply"), str) and number["sms_replies"]:
                    self._outgoing_sms(number, from_, action["reply"], "outgoing-reply")
            elif number["sms_replies"]:
                self._outgoing_sms(number, from_, answer_text, "outgoing-reply")

        if url:
            self.dispatcher.submit(work)
        return render.message(row)

    def inbound_mms(
        self, *, to: str, from_: str, message: str | None = None, images: int = 1
    ) -> Row:
        if not SENDER_ID.match(from_):
            check_e164(from_, "from")
        number = self._number_for(to, "mms")
        mms_id = new_id("m")
        image_ids = [f"{mms_id}-i{i}" for i in range(images)]
        row = {
            "id": mms_id,
            "kind": "mms",
            "owner": number["owner"],
            "direction": "incoming",
            "sender": from_,
            "recipient": to,
            "message": message,
            "status": None,
            "cost": None,
            "parts": None,
            "created": self.store.now(),
            "delivered": None,
            "whendelivered": None,
            "flashsms": 0,
            "images": json.dumps(image_ids),
        }
        with self.store.lock:
            self.store.insert("messages", row)
            for n, image_id in enumerate(image_ids):
                data = tiny_png((40 * n % 256, 120, 200))
                self.store.insert_image(image_id, mms_id, number["owner"], data)
        payload: Row = {
            "id": mms_id,
            "from": from_,
            "to": to,
            "message": message or "",
            "direction": "incoming",
            "created": row["created"],
        }
        for n, image_id in enumerate(image_ids):
            payload["image" if n == 0 else f"image{n + 1}"] = (
                f"{self.api_url()}/images/{image_id}.png"
            )
        if number["mms_url"]:
            self.dispatcher.submit(
                lambda job: job.post("mms", number["mms_url"], payload, ref=mms_id)
            )
        return render.message(row)

    # -- calls -------------------------------------------------------------------------------

    def call_started(self, row: Row) -> None:
        self.dispatcher.submit(lambda job: self._run_call(job, row, row["voice_start"]))

    def inbound_call(self, *, to: str, from_: str) -> Row:
        check_e164(from_, "from")
        number = self._number_for(to, "voice")
        row = {
            "id": new_id("c"),
            "owner": number["owner"],
            "direction": "incoming",
            "sender": from_,
            "recipient": to,
            "state": "ongoing",
            "created": self.store.now(),
            "start": None,
            "duration": None,
            "cost": None,
            "voice_start": number["voice_start"],
            "whenhangup": None,
            "timeout": None,
            "actions": None,
            "legs": None,
        }
        self.store.insert("calls", row)
        self.dispatcher.submit(lambda job: self._run_call(job, row, number["voice_start"]))
        return render.call(row)

    def _fetch_action(self, job: Job, target: Any, payload: Row, call_id: str) -> Row | None:
        """A URL is POSTed once (46elks ends the call on a non-2xx); JSON is used as is."""
        if isinstance(target, dict):
            return target
        if not isinstance(target, str) or not target.strip():
            return None
        inline = _json_object(target)
        if inline is not None:
            return inline
        answer = job.post("voice", target, payload, ref=call_id, retry=False)
        if answer is None:
            raise _CallFailed
        return _json_object(answer.body)

    def _record(self, job: Job, call: Row, url: str, index: int) -> None:
        rec_id = f"{call['id']}-r{index}"
        created = self.store.now()
        duration = self.config.recording_duration
        self.store.insert(
            "recordings",
            {
                "id": rec_id,
                "callid": call["id"],
                "owner": call["owner"],
                "created": created,
                "duration": duration,
                "wav": tiny_wav(),
            },
        )
        payload = {
            "callid": call["id"],
            "created": created,
            "duration": duration,
            "wav": f"{self.api_url()}/recordings/{rec_id}.wav",
            "from": call["sender"],
            "to": call["recipient"],
        }
        job.post("recording", url, payload, ref=call["id"])

    def _run_call(self, job: Job, call: Row, voice_start: str | None) -> None:
        outgoing = call["direction"] == "outgoing"
        hangup_url = call["whenhangup"]
        actions: list[Row] = []
        legs: list[Row] = []
        state, start, duration = "success", None, 0
        job.sleep(self.config.event_delay)
        if outgoing and self._fails(call["recipient"]):
            state = "busy"
        elif not voice_start:
            state = "failed"
        else:
            start = self.store.now()
            duration = self.config.call_duration
            payload: Row = {
                "callid": call["id"],
                "from": call["sender"],
                "to": call["recipient"],
                "direction": call["direction"],
                "created": call["created"],
            }
            if outgoing:
                payload["result"] = "newoutgoing"
            recordings = 0
            try:
                action = self._fetch_action(job, voice_start, payload, call["id"])
                for _ in range(_MAX_STEPS):
                    if action is None:
                        break
                    hangup_url = action.get("whenhangup", hangup_url)
                    result = "success"
                    if isinstance(action.get("recordcall"), str):
                        self._record(job, call, action["recordcall"], recordings)
                        recordings += 1
                    if "connect" in action:
                        target = str(action["connect"]).split(",")[0]
                        callee_fails = self._fails(target)
                        result = "busy" if callee_fails else "success"
                        legs.append(
                            {
                                "from": action.get("callerid", call["sender"]),
                                "to": target,
                                "state": result,
                                "duration": 0 if callee_fails else duration - 1,
                            }
                        )
                        actions.append({"connect": action["connect"], "result": result})
                        # 46elks: `success`/`busy`/`failed` may hold the action for that outcome.
                        if result in action and action[result] is not None:
                            job.sleep(self.config.event_delay / 2)
                            action = self._fetch_action(
                                job,
                                action[result],
                                {"callid": call["id"], "result": result},
                                call["id"],
                            )
                            continue
                    elif isinstance(action.get("record"), str):
                        self._record(job, call, action["record"], recordings)
                        recordings += 1
                        actions.append({"record": action["record"], "result": "success"})
                    elif "play" in action:
                        actions.append({"play": action["play"], "result": "success"})
                    elif "ivr" in action:
                        result = "1"  # the simulated caller always presses 1
                        actions.append({"ivr": action["ivr"], "result": result})
                        if "1" in action:
                            action = self._fetch_action(job, action["1"], payload, call["id"])
                            continue
                    elif "hangup" in action:
                        actions.append({"hangup": action["hangup"]})
                        if not actions[:-1]:
                            state = "busy" if action["hangup"] == "busy" else "failed"
                        break
                    nxt = action.get("next")
                    if nxt is None:
                        break
                    job.sleep(self.config.event_delay / 2)
                    action = self._fetch_action(
                        job, nxt, {"callid": call["id"], "result": result}, call["id"]
                    )
            except _CallFailed:
                state = "failed"
        answered = state == "success"
        cost = 0
        if answered:
            billable = (1 if outgoing else 0) + sum(1 for leg in legs if leg["state"] == "success")
            cost = billable * call_price(duration)
        if cost:
            self.store.charge(call["owner"], cost, enforce=False)  # calls are billed afterwards
        final = {
            "state": state,
            "start": start,
            "duration": duration if answered else 0,
            "cost": cost,
            "actions": json.dumps(actions) if actions else None,
            "legs": json.dumps(legs) if legs else None,
        }
        self.store.update("calls", call["id"], final)
        if hangup_url:
            job.sleep(self.config.event_delay / 2)
            hangup = {
                "id": call["id"],
                "direction": call["direction"],
                "from": call["sender"],
                "to": call["recipient"],
                "created": call["created"],
                "state": state,
            }
            if answered:
                hangup |= {
                    "start": start,
                    "duration": duration,
                    "cost": cost,
                    "actions": json.dumps(actions),
                    "legs": json.dumps(legs),
                }
            job.post("hangup", hangup_url, hangup, ref=call["id"])


class _CallFailed(Exception):
    """The call webhook did not answer 2xx: 46elks hangs up."""


def _json_object(text: str) -> Row | None:
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

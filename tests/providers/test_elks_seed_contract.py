"""Contract: every request example of 46elks' documentation (the seeds) replayed against the
sandbox over HTTP, sent the way the example's client sends it, answered as the docs show.

The examples live in ``elks_seed_examples.py`` (transcribed; see its notes). For each, the
sandbox is first given what the example presumes (numbers, calls, messages, recordings,
subaccounts), then the answer must have the documented status and every documented key with
a value of the documented type (ids, times and prices aside; a few enumerations compared by
value). Keys 46elks documents elsewhere (``status``, ``parts``, ``allocated``...) may be added.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from providers.elks import ElksClient
from providers.elks.sandbox import SandboxServer
from tests.elks_fixtures import CallbackReceiver

from .elks_seed_examples import CURL, EXAMPLES, FORM, NO_TYPE, SeedExample

AUTH = ("sandbox-master", "sandbox-master-secret")
FORM_TYPE = "application/x-www-form-urlencoded"
# Compared by value; everything else by type only.
VALUE_KEYS = {"direction", "state", "result", "category", "country", "currency"}
# The API reference shows booleans where the allocate-number page and 46elks' current docs
# show "yes"/"no" (46elks.md: accept both); the sandbox answers the strings.
YES_NO_KEYS = {"active", "sms_replies"}
PLACEHOLDER_URL = re.compile(r"^http://(?:yourserver|www\.server\.com)(/.*)?$")


def _world(
    sandbox: SandboxServer, client: ElksClient, receiver: CallbackReceiver
) -> dict[str, str]:
    """The state the examples presume, built through the API and the control surface."""
    voice = client.number_allocate(
        country="se",
        capabilities=["sms", "voice"],
        sms_url=receiver.url("/sms"),
        voice_start={"connect": "+4634090510"},
    )
    mms = client.number_allocate(
        country="se",
        capabilities=["sms", "voice", "mms"],
        sms_url=receiver.url("/sms"),
        mms_url=receiver.url("/mms"),
        voice_start={"record": receiver.url("/recording")},
    )
    # The reference's call list: its own outgoing example (text voice_start: fails when
    # answered) and an answered incoming call that was connected on.
    client.call_create(
        from_=voice.number, to="+46723175800", voice_start="Hi! This is your message."
    )
    incoming_call = sandbox.inbound_call(to=voice.number, from_="+46723175800")
    recorded_call = sandbox.inbound_call(to=mms.number, from_="+46723175800")
    sandbox.inbound_call(to=mms.number, from_="+46723175801")
    client.sms_send(from_="Lasse", to="+46723175800", message="This is the message sent")
    incoming_sms = sandbox.inbound_sms(to=voice.number, from_="+46723175800", message="TEst 32423")
    client.mms_send(from_="Lasse", to="+46723175800", message="Hi", image=receiver.url("/i.png"))
    incoming_mms = sandbox.inbound_mms(to=mms.number, from_="+46723175800", message="Text.")
    client.subaccount_create(name="This Co", usagelimit=67575670000)
    spender = client.subaccount_create(name="This Co2", usagelimit=345350000)
    client.for_subaccount(spender.id, spender.secret or "").sms_send(
        from_="ThisCo", to="+46723175800", message="used"
    )
    assert sandbox.wait_idle(10)
    (image,) = [i for i in client.images() if i.mmsid == incoming_mms["id"]]
    return {
        "voice_number": voice.number,
        "voice_number_id": voice.id,
        "incoming_call": incoming_call["id"],
        "recording": f"{recorded_call['id']}-r0",
        "incoming_sms": incoming_sms["id"],
        "incoming_mms": incoming_mms["id"],
        "image": image.id,
        "subaccount": spender.id,
    }


def _params(example: SeedExample, world: dict[str, str], receiver: CallbackReceiver) -> dict:
    params = dict(example.params)
    for key, value in example.overrides.items():
        params[key] = value.format(**world)
    for key, value in params.items():
        match = PLACEHOLDER_URL.match(value)
        if match:  # the doc's example hosts -> the local receiver, same path
            params[key] = receiver.url(match.group(1) or "/")
    return params


def _send(sandbox: SandboxServer, example: SeedExample, path: str, params: dict) -> Any:
    url = sandbox.url + path
    if example.method == "GET":
        return requests.get(url, params=params, auth=AUTH, timeout=5)
    if example.send == CURL:
        # curl -d k=v -d k=v: joined with "&", nothing encoded ("+" arrives as a space).
        body = "&".join(f"{k}={v}" for k, v in params.items())
        return requests.post(
            url, data=body.encode(), headers={"Content-Type": FORM_TYPE}, auth=AUTH, timeout=5
        )
    if example.send == NO_TYPE:
        return requests.post(url, data=urlencode(params).encode(), auth=AUTH, timeout=5)
    assert example.send == FORM
    return requests.post(url, data=params, auth=AUTH, timeout=5)


def _mismatches(doc: Any, got: Any, where: str = "") -> list[str]:
    """What in ``got`` differs from the documented example ``doc`` (empty: it matches)."""
    key = where.rsplit(".", 1)[-1]
    if isinstance(doc, dict):
        if not isinstance(got, dict):
            return [f"{where or 'answer'}: expected an object, got {got!r}"]
        problems = []
        for name, value in doc.items():
            if name not in got:
                problems.append(f"{where}.{name}: missing")
            else:
                problems += _mismatches(value, got[name], f"{where}.{name}")
        return problems
    if isinstance(doc, list):
        if not isinstance(got, list) or (doc and not got):
            return [f"{where}: expected a non-empty list, got {got!r}"]
        problems = []
        for n, item in enumerate(doc):
            # Each documented item must be matched by some answered item (lists are mixed:
            # outgoing and incoming messages, failed and answered calls...).
            tries = [_mismatches(item, candidate, f"{where}[{n}]") for candidate in got]
            if all(tries):
                problems += min(tries, key=len)
        return problems
    if key in YES_NO_KEYS and isinstance(doc, bool):
        return [] if got in ("yes", "no", True, False) else [f"{where}: {got!r} is not yes/no"]
    if type(doc) is not type(got):
        return [f"{where}: expected {type(doc).__name__} like {doc!r}, got {got!r}"]
    if key in VALUE_KEYS and doc != got:
        return [f"{where}: expected {doc!r}, got {got!r}"]
    return []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_documented_example_is_answered_as_documented(
    example: SeedExample,
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
) -> None:
    world = _world(elks_sandbox, elks_master_client, elks_callback_receiver)
    path = example.path.replace("{id}", world[example.ref]) if example.ref else example.path
    response = _send(elks_sandbox, example, path, _params(example, world, elks_callback_receiver))

    assert response.status_code == example.status, response.text
    if example.response is None:  # a file: bytes, not JSON
        assert response.content and "json" not in response.headers["Content-Type"]
        return
    assert response.headers["Content-Type"] == "application/json"
    assert _mismatches(example.response, response.json()) == []


def test_the_shape_check_catches_a_missing_or_mistyped_field() -> None:
    # The checker itself: without this the contract could pass by checking nothing.
    doc = {"data": [{"id": "s1", "cost": 3500, "direction": "outgoing"}], "active": True}
    assert _mismatches(doc, {"data": [{"id": "s", "cost": 1, "direction": "outgoing"}]}) == [
        ".active: missing"
    ]
    assert _mismatches(doc, {"data": [{"id": "s", "direction": "outgoing"}], "active": "yes"})
    assert _mismatches(doc, {"data": [{"id": "s", "cost": "1", "direction": "outgoing"}]})
    assert _mismatches(doc, {"data": [{"id": "s", "cost": 1, "direction": "incoming"}]})
    assert not _mismatches(
        doc,
        {"data": [{"id": "s", "cost": 1, "direction": "outgoing"}], "active": "yes", "extra": 1},
    )

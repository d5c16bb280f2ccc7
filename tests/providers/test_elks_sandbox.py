"""The sandbox acting as 46elks towards our server: callbacks, retries, calls, strictness."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.elks import ElksClient, Number
from providers.elks.sandbox import SandboxServer
from providers.elks.sandbox.rules import sms_parts
from tests.elks_fixtures import CallbackReceiver

AUTH = ("sandbox-master", "sandbox-master-secret")


@pytest.fixture
def hooked_number(
    elks_master_client: ElksClient, elks_callback_receiver: CallbackReceiver
) -> Number:
    return elks_master_client.number_allocate(
        country="se",
        capabilities=["sms", "mms", "voice"],
        sms_url=elks_callback_receiver.url("/sms"),
        mms_url=elks_callback_receiver.url("/mms"),
        voice_start=elks_callback_receiver.url("/voice"),
    )


# -- inbound messages ---------------------------------------------------------------------------


def test_inbound_sms_is_posted_to_sms_url(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    sms = elks_sandbox.inbound_sms(to=hooked_number.number, from_="+46700000002", message="Hej!")
    (callback,) = elks_callback_receiver.wait_for(1, "/sms")
    assert callback.form == {
        "id": sms["id"],
        "from": "+46700000002",
        "to": hooked_number.number,
        "message": "Hej!",
        "direction": "incoming",
        "created": sms["created"],
    }
    assert callback.headers["Content-Type"] == "application/x-www-form-urlencoded"
    stored = elks_master_client.sms_get(sms["id"])
    assert stored.direction == "incoming" and stored.message == "Hej!"


def test_inbound_sms_is_retried_until_a_2xx(
    elks_sandbox: SandboxServer,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    elks_callback_receiver.respond("/sms", 500, times=2)
    sms = elks_sandbox.inbound_sms(to=hooked_number.number, from_="+46700000002", message="x")
    received = elks_callback_receiver.wait_for(3, "/sms")
    assert [c.form["id"] for c in received] == [sms["id"]] * 3
    assert elks_sandbox.wait_idle(5)
    attempts = elks_sandbox.deliveries(kind="sms", ref=sms["id"])
    assert [(a["attempt"], a["status"], a["ok"]) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


def test_inbound_sms_gives_up_after_the_configured_attempts(
    elks_sandbox: SandboxServer,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    elks_callback_receiver.respond("/sms", 503, times=10)
    sms = elks_sandbox.inbound_sms(to=hooked_number.number, from_="+46700000002", message="x")
    assert elks_sandbox.wait_idle(5)
    assert len(elks_sandbox.deliveries(kind="sms", ref=sms["id"])) == 3  # test config


def test_plain_text_answer_becomes_a_reply_unless_replies_are_off(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    elks_callback_receiver.respond("/sms", 200, "Thanks, we got it")
    elks_sandbox.inbound_sms(to=hooked_number.number, from_="+46700000002", message="Hi")
    assert elks_sandbox.wait_idle(5)
    reply = next(s for s in elks_master_client.sms_list() if s.direction == "outgoing-reply")
    assert (reply.from_, reply.to, reply.message) == (
        hooked_number.number,
        "+46700000002",
        "Thanks, we got it",
    )
    assert reply.cost == 3500

    elks_master_client.number_update(hooked_number.id, sms_replies=False)
    elks_callback_receiver.respond("/sms", 200, "Ignored")
    elks_sandbox.inbound_sms(to=hooked_number.number, from_="+46700000003", message="Hi")
    assert elks_sandbox.wait_idle(5)
    assert [s.to for s in elks_master_client.sms_list() if s.direction == "outgoing-reply"] == [
        "+46700000002"
    ]


def test_inbound_mms_is_posted_with_image_urls(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    mms = elks_sandbox.inbound_mms(
        to=hooked_number.number, from_="+46700000002", message="Pics", images=2
    )
    (callback,) = elks_callback_receiver.wait_for(1, "/mms")
    assert callback.form["id"] == mms["id"] and callback.form["direction"] == "incoming"
    assert callback.form["message"] == "Pics"
    assert callback.form["image"].endswith(f"/a1/images/{mms['id']}-i0.png")
    assert callback.form["image2"].endswith(f"/a1/images/{mms['id']}-i1.png")
    picture = requests.get(callback.form["image"], auth=AUTH, timeout=2)
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert requests.get(callback.form["image"], timeout=2).status_code == 401
    assert elks_master_client.mms_get(mms["id"]).images == (f"{mms['id']}-i0", f"{mms['id']}-i1")


# -- delivery reports ---------------------------------------------------------------------------


def test_delivery_reports_sent_then_delivered(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
) -> None:
    sms = elks_master_client.sms_send(
        from_="Switchb",
        to="+46700000001",
        message="x",
        whendelivered=elks_callback_receiver.url("/dlr"),
    )
    reports = [c.form for c in elks_callback_receiver.wait_for(2, "/dlr")]
    assert reports[0] == {"id": sms.id, "status": "sent"}
    assert reports[1]["status"] == "delivered" and reports[1]["delivered"].endswith("Z")
    assert elks_master_client.sms_get(sms.id).status == "delivered"


def test_delivery_report_failed_for_configured_recipients(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
) -> None:
    elks_sandbox.configure(fail_suffix="13")
    sms = elks_master_client.sms_send(
        from_="Switchb",
        to="+46700000013",
        message="x",
        whendelivered=elks_callback_receiver.url("/dlr"),
    )
    reports = [c.form for c in elks_callback_receiver.wait_for(2, "/dlr")]
    assert [r["status"] for r in reports] == ["sent", "failed"]
    assert "delivered" not in reports[1]
    assert elks_master_client.sms_get(sms.id).status == "failed"


# -- calls --------------------------------------------------------------------------------------


def test_inbound_call_runs_the_answered_action(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    receiver = elks_callback_receiver
    action = {
        "connect": "+46700000009",
        "recordcall": receiver.url("/recording"),
        "whenhangup": receiver.url("/hangup"),
    }
    receiver.respond("/voice", 200, json.dumps(action), content_type="application/json")
    call = elks_sandbox.inbound_call(to=hooked_number.number, from_="+46700000002")

    (start,) = receiver.wait_for(1, "/voice")
    assert start.form == {
        "callid": call["id"],
        "from": "+46700000002",
        "to": hooked_number.number,
        "direction": "incoming",
        "created": call["created"],
    }
    (recording,) = receiver.wait_for(1, "/recording")
    assert recording.form["callid"] == call["id"] and recording.form["duration"] == "5"
    assert (recording.form["from"], recording.form["to"]) == ("+46700000002", hooked_number.number)
    wav = requests.get(recording.form["wav"], auth=AUTH, timeout=2)
    assert wav.content.startswith(b"RIFF")
    (hangup,) = receiver.wait_for(1, "/hangup")
    assert hangup.form["id"] == call["id"] and hangup.form["state"] == "success"
    assert json.loads(hangup.form["legs"])[0]["to"] == "+46700000009"

    done = elks_master_client.call_get(call["id"])
    assert done.state == "success" and done.direction == "incoming" and done.cost == 1500


def test_call_webhook_error_ends_the_call_without_retry(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    elks_callback_receiver.respond("/voice", 500)
    call = elks_sandbox.inbound_call(to=hooked_number.number, from_="+46700000002")
    assert elks_sandbox.wait_idle(5)
    assert len(elks_callback_receiver.wait_for(1, "/voice", timeout=0.2)) == 1
    assert elks_master_client.call_get(call["id"]).state == "failed"


def test_outgoing_call_follows_next_and_reports_busy_callees(
    elks_sandbox: SandboxServer,
    elks_master_client: ElksClient,
    elks_callback_receiver: CallbackReceiver,
    hooked_number: Number,
) -> None:
    receiver = elks_callback_receiver
    receiver.respond(
        "/voice", 200, json.dumps({"play": "sound/beep", "next": receiver.url("/next")})
    )
    receiver.respond("/next", 200, json.dumps({"hangup": "reject"}))
    call = elks_master_client.call_create(
        from_=hooked_number.number,
        to="+46700000001",
        voice_start=receiver.url("/voice"),
        whenhangup=receiver.url("/hangup"),
    )
    (start,) = receiver.wait_for(1, "/voice")
    assert start.form["result"] == "newoutgoing" and start.form["direction"] == "outgoing"
    (nxt,) = receiver.wait_for(1, "/next")
    assert nxt.form == {"callid": call.id, "result": "success"}
    assert receiver.wait_for(1, "/hangup")[0].form["state"] == "success"

    elks_sandbox.configure(fail_suffix="13")
    busy = elks_master_client.call_create(
        from_=hooked_number.number,
        to="+46700000013",
        voice_start=receiver.url("/voice"),
        whenhangup=receiver.url("/hangup"),
    )
    hangups = receiver.wait_for(2, "/hangup")
    assert hangups[1].form["id"] == busy.id and hangups[1].form["state"] == "busy"
    assert "duration" not in hangups[1].form
    assert len(receiver.wait_for(2, "/voice", timeout=0.2)) == 1  # never answered


# -- strictness ---------------------------------------------------------------------------------


def _post(
    sandbox: SandboxServer, path: str, auth: tuple[str, str] = AUTH, **kw: Any
) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/{path}", auth=auth, timeout=2, **kw)


def test_json_bodies_and_query_parameters_on_posts_are_refused(
    elks_sandbox: SandboxServer,
) -> None:
    sms = {"from": "Switchb", "to": "+46700000001", "message": "x"}
    response = _post(elks_sandbox, "sms", json=sms)
    assert response.status_code == 400 and "JSON is not accepted" in response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    # JSON text is refused whatever the declared type (46elks documents form bodies only).
    untyped_json = _post(elks_sandbox, "sms", data=json.dumps(sms).encode())
    assert untyped_json.status_code == 400 and "JSON is not accepted" in untyped_json.text
    multipart = _post(elks_sandbox, "sms", files={"message": (None, "x")}, data=sms)
    assert multipart.status_code == 400 and "Unsupported content type" in multipart.text
    assert _post(elks_sandbox, "sms", params=sms).status_code == 400
    assert _post(elks_sandbox, "sms", data=sms).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # Elixir HTTPotion / Node https.request in 46elks' samples: no Content-Type
        {"Content-Type": "text/plain;charset=UTF-8"},  # Node fetch() with a string body
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    ],
    ids=["no-content-type", "text-plain", "form-with-charset"],
)
def test_form_encoded_bodies_are_read_whatever_content_type_46elks_samples_send(
    elks_sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    # Issue 11 item 15: a form body without the form content type was refused.
    body = "from=Switchb&to=%2B46700000001&message=Hej+d%C3%A4r"
    response = _post(elks_sandbox, "sms", data=body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Hej där" and response.json()["to"] == "+46700000001"


def test_get_with_post_suffix_sends_as_46elks_documents(elks_sandbox: SandboxServer) -> None:
    # 46elks docs, "Using GET instead of POST": GET /a1/sms/POST?to=+467...&from=..&message=..
    url = f"{elks_sandbox.base_url}/sms/POST?to=+46701234567&from=ElkCo&message=Hello!"
    response = requests.get(url, auth=AUTH, timeout=2)
    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["to"], sent["from"], sent["message"]) == ("+46701234567", "ElkCo", "Hello!")
    (logged,) = elks_sandbox.api_requests(path="/a1/sms", method="POST")
    assert logged["params"]["to"] == "+46701234567"


def test_unencoded_plus_in_phone_number_fields_is_accepted(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    # Issue 11 item 11: 46elks' curl sample (-d to=+46700000000) arrives as " 46700000000".
    number = elks_master_client.number_allocate(country="se", capabilities=["sms", "voice"])
    raw = f"from={number.number}&to=+46700000000&message=Hej"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    sent = _post(elks_sandbox, "sms", data=raw.encode(), headers=form)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["from"], sent.json()["to"]) == (number.number, "+46700000000")
    # Only phone number fields: a message that starts with a space and digits is kept as is.
    kept = _post(elks_sandbox, "sms", data=b"from=Switchb&to=+46700000000&message= 123")
    assert kept.status_code == 200 and kept.json()["message"] == " 123"
    # Query parameters too (GET /a1/sms?to=+46...).
    listed = requests.get(f"{elks_sandbox.base_url}/sms?to=+46700000000", auth=AUTH, timeout=2)
    assert [row["to"] for row in listed.json()["data"]] == ["+46700000000"] * 2
    # Anything else is still refused: a space before something that is not all digits.
    odd = _post(elks_sandbox, "sms", data=b"from=Switchb&to=+4670 000&message=x", headers=form)
    assert odd.status_code == 400 and 'Invalid "to"' in odd.text


def test_mms_url_is_stored_on_a_number_without_mms(elks_master_client: ElksClient) -> None:
    # Issue 11 item 13: the seed sets mms_url on an sms,voice number; 46elks stores it.
    number = elks_master_client.number_allocate(
        country="se", capabilities=["sms", "voice"], mms_url="https://app.example/mms"
    )
    assert number.mms_url == "https://app.example/mms"
    cleared = elks_master_client.number_update(number.id, mms_url=" ")  # " " clears, as "none"
    assert cleared.mms_url is None


def test_me_and_numbers_have_the_documented_fields(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    # Issue 11 item 14: a subaccount's /me lacked email, mobilenumber...; numbers lacked
    # allocated; subaccounts lacked the seed's usage.
    seed_me = {"balance", "currency", "displayname", "email", "id", "mobilenumber"}
    master = requests.get(f"{elks_sandbox.base_url}/me", auth=AUTH, timeout=2).json()
    assert seed_me | {"trialactivated"} <= set(master)
    sub = elks_master_client.subaccount_create(name="Shop AB", usagelimit=100000)
    me = requests.get(f"{elks_sandbox.base_url}/me", auth=(sub.id, sub.secret), timeout=2).json()
    assert seed_me | {"trialactivated", "balanceused", "usagelimit"} <= set(me)
    assert (me["id"], me["displayname"], me["email"]) == (sub.id, "Shop AB", master["email"])
    assert me["mobilenumber"] == master["mobilenumber"] and me["balance"] == 100000
    number = elks_master_client.number_allocate(country="se", capabilities=["sms"])
    assert number.raw["allocated"] == number.raw["created"]
    assert elks_master_client.subaccount_get(sub.id).raw["usage"] == 0


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"from": "Switchb", "message": "x"}, 'Missing key "to"'),
        ({"from": "Switchb", "to": "+46700000001"}, 'Missing key "message"'),
        ({"to": "+46700000001", "message": "x"}, 'Missing key "from"'),
        ({"from": "Switchb", "to": "46700000001", "message": "x"}, 'Invalid "to"'),
        ({"from": "Switchb", "to": "+4670", "message": "x"}, 'Invalid "to"'),
        ({"from": "Switchb", "to": "+46700000001\n", "message": "x"}, 'Invalid "to"'),
        ({"from": "Switchb\n", "to": "+46700000001", "message": "x"}, 'Invalid "from"'),
        ({"from": "1Switch", "to": "+46700000001", "message": "x"}, 'Invalid "from"'),
        ({"from": "Sb", "to": "+46700000001", "message": "x"}, 'Invalid "from"'),
        ({"from": "Switchboard1", "to": "+46700000001", "message": "x"}, 'Invalid "from"'),
        ({"from": "Switch-b", "to": "+46700000001", "message": "x"}, 'Invalid "from"'),
        ({"from": "Switchb", "to": "+46700000001", "message": "x", "from_": "y"}, "Unknown"),
        ({"from": "Switchb", "to": "+46700000001", "message": "x", "flashsms": "1"}, "flashsms"),
    ],
)
def test_sms_validation(elks_sandbox: SandboxServer, form: dict[str, str], reason: str) -> None:
    response = _post(elks_sandbox, "sms", data=form)
    assert response.status_code == 400 and reason in response.text


def test_other_strictness_cases(elks_sandbox: SandboxServer) -> None:
    assert _post(
        elks_sandbox, "numbers", data={"country": "se", "capabilities": "sms,fax"}
    ).text == ('Invalid capability "fax"; use sms, mms and/or voice')
    assert (
        _post(elks_sandbox, "numbers", data={"country": "xx", "capabilities": "sms"}).status_code
        == 400
    )
    too_big = requests.get(f"{elks_sandbox.base_url}/sms?limit=101", auth=AUTH, timeout=2)
    assert too_big.status_code == 400 and "limit" in too_big.text
    duplicate = _post(
        elks_sandbox,
        "sms",
        data="to=%2B46700000001&to=%2B46700000002&from=Ab1&message=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert duplicate.status_code == 400 and "Duplicate" in duplicate.text
    unauthenticated = requests.get(f"{elks_sandbox.base_url}/me", timeout=2)
    assert unauthenticated.status_code == 401 and "WWW-Authenticate" in unauthenticated.headers
    assert (
        requests.get(f"{elks_sandbox.base_url}/me", auth=("x", "y"), timeout=2).status_code == 401
    )
    sub = elks_sandbox.create_subaccount("Sub")
    forbidden = _post(
        elks_sandbox, "subaccounts", auth=(sub["id"], sub["secret"]), data={"name": "x"}
    )
    assert forbidden.status_code == 403
    assert requests.delete(f"{elks_sandbox.base_url}/sms", auth=AUTH, timeout=2).status_code == 405
    assert requests.get(f"{elks_sandbox.base_url}/faxes", auth=AUTH, timeout=2).status_code == 404


def test_sms_part_counting() -> None:
    assert sms_parts("a" * 160) == (1, "gsm7")
    assert sms_parts("a" * 161) == (2, "gsm7")
    assert sms_parts("a" * 306) == (2, "gsm7")
    assert sms_parts("a" * 307) == (3, "gsm7")
    assert sms_parts("€" * 80) == (1, "gsm7")  # extension characters take two septets
    assert sms_parts("€" * 81) == (2, "gsm7")
    assert sms_parts("ж" * 70) == (1, "ucs2")
    assert sms_parts("ж" * 71) == (2, "ucs2")
    assert sms_parts("ж" * 135) == (3, "ucs2")


# -- control API, persistence, CLI --------------------------------------------------------------


def test_control_api_over_http(
    elks_sandbox: SandboxServer, elks_callback_receiver: CallbackReceiver, hooked_number: Number
) -> None:
    control = elks_sandbox.control_url
    sms = requests.post(
        f"{control}/inbound-sms",
        json={"to": hooked_number.number, "from": "+46700000002", "message": "via control"},
        timeout=2,
    ).json()
    assert sms["direction"] == "incoming" and sms["message"] == "via control"
    elks_callback_receiver.wait_for(1, "/sms")
    assert elks_sandbox.wait_idle(5)
    deliveries = requests.get(f"{control}/deliveries", params={"kind": "sms"}, timeout=2).json()
    assert [d["ref"] for d in deliveries["data"]] == [sms["id"]]
    logged = requests.get(f"{control}/requests", params={"path": "/a1/numbers"}, timeout=2).json()
    assert [r["method"] for r in logged["data"]] == ["POST"]

    chaos = requests.post(f"{control}/chaos", data={"rate": "1", "mode": "503"}, timeout=2).json()
    assert chaos["rate"] == 1.0
    assert requests.get(f"{elks_sandbox.base_url}/me", auth=AUTH, timeout=2).status_code == 503
    assert requests.post(f"{control}/chaos", data={"mode": "teapot"}, timeout=2).status_code == 400
    assert requests.post(f"{control}/reset", timeout=2).json() == {"reset": True}
    assert requests.get(f"{elks_sandbox.base_url}/me", auth=AUTH, timeout=2).status_code == 200
    state = requests.get(f"{control}/state", timeout=2).json()
    assert state["counts"]["numbers"] == 0 and "password" not in state["account"]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxServer(db=db, master_username="u", master_password="p") as server:
        client = ElksClient(base_url=server.base_url, username="u", password="p", timeout=2)
        sub = client.subaccount_create(name="Persistent")
        client.sms_send(from_="Switchb", to="+46700000001", message="x")
    with SandboxServer(db=db, master_username="u", master_password="p2") as server:
        client = ElksClient(base_url=server.base_url, username="u", password="p2", timeout=2)
        assert [s.id for s in client.subaccounts()] == [sub.id]
        assert client.me().balance == 100_000_000 - 3500


def test_command_line_starts_a_server(tmp_path: Path) -> None:
    with SandboxServer() as probe:
        port = probe.port  # a free port, released when the probe stops
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "providers.elks.sandbox",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "cli.sqlite3"),
            "--username",
            "cli",
            "--password",
            "secret",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                me = requests.get(
                    f"http://127.0.0.1:{port}/a1/me", auth=("cli", "secret"), timeout=1
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        assert me.status_code == 200 and me.json()["currency"] == "SEK"
    finally:
        proc.terminate()
        proc.wait(timeout=5)

"""ElksClient against the sandbox over real HTTP: every endpoint, paging, isolation, limits."""

from __future__ import annotations

import io
import wave
from datetime import UTC, datetime

import pytest
import requests

from providers.elks import (
    ElksAuthError,
    ElksClient,
    ElksForbidden,
    ElksInvalidRequest,
    ElksNotFound,
    Number,
)
from providers.elks.sandbox import SandboxServer

AUTH = ("sandbox-master", "sandbox-master-secret")


def _params(sandbox: SandboxServer, path: str, method: str = "POST") -> dict[str, str]:
    """The form the sandbox received on the last matching request."""
    return sandbox.api_requests(path=path, method=method)[-1]["params"]


@pytest.fixture
def se_number(elks_master_client: ElksClient) -> Number:
    return elks_master_client.number_allocate(country="se", capabilities=["sms", "mms", "voice"])


# -- account and subaccounts --------------------------------------------------------------------


def test_me(elks_master_client: ElksClient) -> None:
    me = elks_master_client.me()
    assert me.id.startswith("u")
    assert me.currency == "SEK"
    assert me.balance == 100_000_000
    assert me.displayname and me.email and me.mobilenumber


def test_subaccount_create_get_update(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    client = elks_master_client
    sub = client.subaccount_create(name="Acme AB", usagelimit=500_000)
    assert sub.id.startswith("a") and sub.secret and sub.active
    assert (sub.name, sub.usagelimit, sub.balanceused) == ("Acme AB", 500_000, 0)
    assert sub.created is not None and sub.created.tzinfo is UTC
    assert _params(elks_sandbox, "/a1/subaccounts") == {"name": "Acme AB", "usagelimit": "500000"}

    assert client.subaccount_get(sub.id) == sub

    renamed = client.subaccount_update(sub.id, name="Acme Sverige AB", usagelimit="none")
    assert renamed.name == "Acme Sverige AB" and renamed.usagelimit is None

    rotated = client.subaccount_update(sub.id, secret="new")
    assert rotated.secret and rotated.secret != sub.secret
    with pytest.raises(ElksAuthError):
        client.for_subaccount(sub.id, sub.secret or "").me()
    assert client.for_subaccount(sub.id, rotated.secret).me().id == sub.id

    gone = client.subaccount_update(sub.id, active=False)
    assert not gone.active and gone.deactivated is not None and gone.secret is None
    with pytest.raises(ElksAuthError) as excinfo:
        client.for_subaccount(sub.id, rotated.secret).me()
    assert excinfo.value.status == 401 and not excinfo.value.retryable


def test_subaccount_deactivation_refused_while_it_holds_numbers(
    elks_master_client: ElksClient,
) -> None:
    sub = elks_master_client.subaccount_create(name="Holder")
    as_sub = elks_master_client.for_subaccount(sub.id, sub.secret or "")
    number = as_sub.number_allocate(country="se", capabilities=["sms"])
    with pytest.raises(ElksInvalidRequest, match="active numbers"):
        elks_master_client.subaccount_update(sub.id, active=False)
    as_sub.number_deactivate(number.id)
    assert not elks_master_client.subaccount_update(sub.id, active=False).active


def test_subaccounts_list_walks_all_pages(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    elks_sandbox.configure(page_size=2)
    created = [elks_master_client.subaccount_create(name=f"Sub {n}").id for n in range(5)]
    elks_master_client.subaccount_update(created[0], active=False)

    listed = [s.id for s in elks_master_client.subaccounts()]
    assert listed == list(reversed(created))  # newest first, each once
    assert len(elks_sandbox.api_requests(path="/a1/subaccounts", method="GET")) >= 3

    active = [s.id for s in elks_master_client.subaccounts(active=True)]
    assert active == list(reversed(created[1:]))
    assert _params(elks_sandbox, "/a1/subaccounts", "GET")["active"] == "yes"


# -- numbers ------------------------------------------------------------------------------------


def test_number_allocate_with_every_documented_parameter(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    number = elks_master_client.number_allocate(
        country="SE",
        capabilities=["sms", "mms", "voice"],
        category="mobile",
        sms_url="https://app.example/hooks/sms",
        mms_url="https://app.example/hooks/mms",
        voice_start={"connect": "+46700000000"},
        sms_replies=False,
        name="Support line",
    )
    assert number.id.startswith("n") and number.number.startswith("+46")
    assert (number.country, number.category, number.active) == ("se", "mobile", True)
    assert number.capabilities == ("sms", "mms", "voice")
    assert number.sms_url == "https://app.example/hooks/sms"
    assert number.mms_url == "https://app.example/hooks/mms"
    assert number.voice_start == '{"connect":"+46700000000"}'
    assert number.sms_replies is False and number.name == "Support line"
    assert number.expires is not None and number.expires.tzinfo is UTC
    assert _params(elks_sandbox, "/a1/numbers") == {
        "country": "se",
        "capabilities": "sms,mms,voice",
        "category": "mobile",
        "sms_url": "https://app.example/hooks/sms",
        "mms_url": "https://app.example/hooks/mms",
        "voice_start": '{"connect":"+46700000000"}',
        "sms_replies": "no",
        "name": "Support line",
    }


def test_number_allocate_refusals_carry_the_reason(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    with pytest.raises(ElksInvalidRequest, match="Fixed numbers cannot have SMS") as excinfo:
        elks_master_client.number_allocate(country="se", capabilities=["sms"], category="fixed")
    assert excinfo.value.status == 400 and not excinfo.value.retryable
    fixed = elks_master_client.number_allocate(
        country="se", capabilities=["voice"], category="fixed"
    )
    assert fixed.category == "fixed" and fixed.number.startswith("+4610")

    elks_sandbox.set_pool("dk", [])
    with pytest.raises(ElksInvalidRequest) as excinfo:
        elks_master_client.number_allocate(country="dk", capabilities=["sms"])
    assert excinfo.value.reason == "No numbers available for that country"
    assert "No numbers available for that country" in str(excinfo.value)
    with pytest.raises(ElksInvalidRequest, match="Invalid capability"):
        elks_master_client.number_allocate(country="se", capabilities=["fax"])


def test_numbers_list_get_update_deactivate(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    client = elks_master_client
    first = client.number_allocate(country="se", capabilities=["sms", "voice"])
    second = client.number_allocate(country="no", capabilities=["sms"])
    assert [n.id for n in client.numbers()] == [second.id, first.id]
    assert client.number_get(first.id) == first

    updated = client.number_update(
        first.id,
        sms_url="https://app.example/sms",
        voice_start="https://app.example/voice",
        sms_replies=False,
        name="Sales",
    )
    assert (updated.sms_url, updated.voice_start) == (
        "https://app.example/sms",
        "https://app.example/voice",
    )
    assert updated.sms_replies is False and updated.name == "Sales"
    cleared = client.number_update(first.id, sms_url="none", sms_replies=True)
    assert cleared.sms_url is None and cleared.sms_replies is True
    # The seed sets mms_url on numbers without MMS and 46elks stores it (item 13 of issue 11).
    with_mms_url = client.number_update(first.id, mms_url="https://app.example/mms")
    assert with_mms_url.mms_url == "https://app.example/mms" and "mms" not in first.capabilities

    gone = client.number_deactivate(first.id)
    assert not gone.active and gone.deallocated is not None
    assert _params(elks_sandbox, f"/a1/numbers/{first.id}") == {"active": "no"}
    with pytest.raises(ElksInvalidRequest, match="irreversible"):
        client.number_update(first.id, active=True)
    with pytest.raises(ElksNotFound):
        client.number_get("n" + "0" * 32)


# -- SMS ----------------------------------------------------------------------------------------


def test_sms_send_with_options_then_get_and_list(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient, se_number: Number
) -> None:
    client = elks_master_client
    sms = client.sms_send(
        from_=se_number.number,
        to="+46700000001",
        message="Hej från Switchboard",
        whendelivered="http://127.0.0.1:9/dlr",
        flashsms=True,
    )
    assert sms.id.startswith("s") and len(sms.id) == 33
    assert (sms.status, sms.direction, sms.cost, sms.parts) == ("created", "outgoing", 3500, 1)
    assert sms.from_ == se_number.number and sms.to == "+46700000001"
    assert sms.message == "Hej från Switchboard" and sms.flashsms is True
    assert _params(elks_sandbox, "/a1/sms") == {
        "from": se_number.number,
        "to": "+46700000001",
        "message": "Hej från Switchboard",
        "whendelivered": "http://127.0.0.1:9/dlr",
        "flashsms": "yes",
    }
    other = client.sms_send(from_="Switchb", to="+4791234567", message="Hei")
    assert other.cost == 4700

    assert elks_sandbox.wait_idle(5)
    fetched = client.sms_get(sms.id)
    assert fetched.status == "delivered" and fetched.delivered is not None
    assert [s.id for s in client.sms_list()] == [other.id, sms.id]
    assert [s.id for s in client.sms_list(to="+46700000001")] == [sms.id]
    assert client.me().balance == 100_000_000 - 3500 - 4700


def test_sms_dryrun_charges_nothing_and_estimates(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    long_unicode = "Привет! " * 20  # 160 UCS-2 units -> 3 parts of 67
    dry = elks_master_client.sms_send(
        from_="Switchb", to="+46700000001", message=long_unicode, dryrun=True
    )
    assert dry.id == "" and dry.cost is None
    assert (dry.parts, dry.estimated_cost) == (3, 3 * 3500)
    assert _params(elks_sandbox, "/a1/sms")["dryrun"] == "yes"
    assert list(elks_master_client.sms_list()) == []
    assert elks_master_client.me().balance == 100_000_000


def test_sms_dontlog_keeps_text_out_of_later_reads(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    sms = elks_master_client.sms_send(
        from_="Switchb", to="+46700000001", message="Your code is 1234", dontlog=True
    )
    assert _params(elks_sandbox, "/a1/sms")["dontlog"] == "message"
    assert elks_master_client.sms_get(sms.id).message is None


def test_sms_invalid_recipient_and_sender_are_rejected(elks_master_client: ElksClient) -> None:
    with pytest.raises(ElksInvalidRequest, match='Invalid "to"'):
        elks_master_client.sms_send(from_="Switchb", to="0701234567", message="x")
    with pytest.raises(ElksInvalidRequest, match='Invalid "from"'):
        elks_master_client.sms_send(from_="1Switch", to="+46700000001", message="x")
    with pytest.raises(ElksInvalidRequest, match="not one of your active numbers"):
        elks_master_client.sms_send(from_="+46766869999", to="+46700000001", message="x")


# -- MMS and images -----------------------------------------------------------------------------


def test_mms_send_list_get_and_images(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient, se_number: Number
) -> None:
    client = elks_master_client
    mms = client.mms_send(
        from_=se_number.number,
        to="+46700000001",
        message="Look",
        image="https://app.example/cat.png",
    )
    assert mms.id.startswith("m") and mms.cost == 12500 and mms.images == (f"{mms.id}-i0",)
    text_only = client.mms_send(from_=se_number.number, to="+4791234567", message="No pic")
    assert text_only.images == () and text_only.cost == 20000

    assert [m.id for m in client.mms_list()] == [text_only.id, mms.id]
    assert client.mms_get(mms.id).message == "Look"
    with pytest.raises(ElksNotFound):
        client.sms_get(mms.id)

    images = list(client.images())
    assert [i.id for i in images] == [f"{mms.id}-i0"]
    meta = client.image_get(images[0].id)
    assert meta.mmsid == mms.id and meta.filetype == "png" and meta.size and meta.digest
    data = client.image_file(meta.id)
    assert data.startswith(b"\x89PNG") and len(data) == meta.size
    assert client.image_file(meta.id, ext="png") == data


# -- calls and recordings -----------------------------------------------------------------------


def test_call_create_list_get(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient, se_number: Number
) -> None:
    call = elks_master_client.call_create(
        from_=se_number.number,
        to="+46700000001",
        voice_start={"play": "https://app.example/hello.mp3"},
        whenhangup="http://127.0.0.1:9/hangup",
        timeout=30,
    )
    assert call.id.startswith("c") and call.state == "ongoing" and call.direction == "outgoing"
    assert _params(elks_sandbox, "/a1/calls") == {
        "from": se_number.number,
        "to": "+46700000001",
        "voice_start": '{"play":"https://app.example/hello.mp3"}',
        "whenhangup": "http://127.0.0.1:9/hangup",
        "timeout": "30",
    }
    assert elks_sandbox.wait_idle(5)
    done = elks_master_client.call_get(call.id)
    assert done.state == "success" and done.duration == 12 and done.cost == 1500
    assert done.actions == ({"play": "https://app.example/hello.mp3", "result": "success"},)
    assert [c.id for c in elks_master_client.calls()] == [call.id]


def test_recordings_list_get_and_wav(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient, se_number: Number
) -> None:
    call = elks_master_client.call_create(
        from_=se_number.number,
        to="+46700000001",
        voice_start={"record": "http://127.0.0.1:9/recording"},
    )
    assert elks_sandbox.wait_idle(5)
    recordings = list(elks_master_client.recordings())
    assert [r.id for r in recordings] == [f"{call.id}-r0"]
    assert recordings[0].callid == call.id
    meta = elks_master_client.recording_get(recordings[0].id)
    assert meta.duration == 5 and meta.created is not None
    wav = elks_master_client.recording_wav(meta.id)
    with wave.open(io.BytesIO(wav)) as audio:
        assert audio.getframerate() == 8000 and audio.getnframes() > 0


# -- paging and isolation -----------------------------------------------------------------------


def test_pagination_follows_next_and_deduplicates_page_edges(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    elks_sandbox.configure(page_size=3)
    seeded = elks_sandbox.seed_sms(8)
    listed = [s.id for s in elks_master_client.sms_list()]
    assert listed == list(reversed(seeded))
    gets = elks_sandbox.api_requests(path="/a1/sms", method="GET")
    # "start" is "created before" (exclusive), so 8 rows take pages of 3, 3 and 2.
    assert len(gets) == 3
    assert gets[1]["params"]["start"] == elks_master_client.sms_get(seeded[-3]).raw["created"]


def test_pages_of_one_row_advance_to_the_end(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    # Issue 11 item 12: with an inclusive start a limit=1 walk never got past the newest row.
    seeded = elks_sandbox.seed_sms(4)
    client = ElksClient(
        base_url=elks_sandbox.base_url,
        username=elks_master_client.username,
        password="sandbox-master-secret",
        page_size=1,
    )
    assert [s.id for s in client.sms_list()] == list(reversed(seeded))
    gets = elks_sandbox.api_requests(path="/a1/sms", method="GET")
    assert len(gets) == 4 and all(g["params"]["limit"] == "1" for g in gets)


def test_next_sent_back_as_start_never_repeats_a_row(elks_sandbox: SandboxServer) -> None:
    # Raw HTTP, without the client's de-duplication: consecutive pages share no row.
    seeded = elks_sandbox.seed_sms(5)
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    for _ in range(5):
        body = requests.get(
            f"{elks_sandbox.base_url}/sms", params=params, auth=AUTH, timeout=2
        ).json()
        seen += [row["id"] for row in body["data"]]
        if "next" not in body:
            break
        params["start"] = body["next"]
    assert seen == list(reversed(seeded))


def test_list_window_filters(elks_sandbox: SandboxServer, elks_master_client: ElksClient) -> None:
    seeded = elks_sandbox.seed_sms(5)
    created = [elks_master_client.sms_get(i).created for i in seeded]
    assert all(isinstance(c, datetime) for c in created)
    # 46elks: start = "created before", end = "created after"; both bounds are exclusive.
    window = elks_master_client.sms_list(start=created[4], end=created[1])
    assert [s.id for s in window] == [seeded[3], seeded[2]]


def test_subaccounts_are_isolated(elks_master_client: ElksClient) -> None:
    a = elks_master_client.subaccount_create(name="A")
    b = elks_master_client.subaccount_create(name="B")
    client_a = elks_master_client.for_subaccount(a.id, a.secret or "")
    client_b = elks_master_client.for_subaccount(b.id, b.secret or "")
    number_a = client_a.number_allocate(country="se", capabilities=["sms"])
    number_b = client_b.number_allocate(country="se", capabilities=["sms"])

    assert [n.id for n in client_a.numbers()] == [number_a.id]
    assert [n.id for n in client_b.numbers()] == [number_b.id]
    assert {n.id for n in elks_master_client.numbers()} == {number_a.id, number_b.id}
    with pytest.raises(ElksNotFound):
        client_a.number_get(number_b.id)
    with pytest.raises(ElksNotFound):
        client_a.number_update(number_b.id, name="mine now")
    with pytest.raises(ElksInvalidRequest, match="not one of your active numbers"):
        client_a.sms_send(from_=number_b.number, to="+46700000001", message="spoof")

    sms_b = client_b.sms_send(from_=number_b.number, to="+46700000001", message="hi")
    assert list(client_a.sms_list()) == []
    with pytest.raises(ElksNotFound):
        client_a.sms_get(sms_b.id)
    with pytest.raises(ElksForbidden, match="cannot manage subaccounts") as excinfo:
        list(client_a.subaccounts())
    assert isinstance(excinfo.value, ElksAuthError) and excinfo.value.status == 403


def test_usage_limit_refuses_a_send_that_would_exceed_it(elks_master_client: ElksClient) -> None:
    sub = elks_master_client.subaccount_create(name="Capped", usagelimit=5000)
    client = elks_master_client.for_subaccount(sub.id, sub.secret or "")
    client.sms_send(from_="Capped", to="+46700000001", message="one")
    with pytest.raises(ElksForbidden) as excinfo:
        client.sms_send(from_="Capped", to="+46700000001", message="two")
    assert excinfo.value.reason == "Usage limit exceeded for this subaccount"
    assert "Usage limit exceeded" in str(excinfo.value) and not excinfo.value.retryable
    assert elks_master_client.subaccount_get(sub.id).balanceused == 3500
    assert len(list(client.sms_list())) == 1

    elks_master_client.subaccount_update(sub.id, usagelimit="none")
    client.sms_send(from_="Capped", to="+46700000001", message="two")
    assert elks_master_client.subaccount_get(sub.id).balanceused == 7000
    assert client.me().raw["balanceused"] == 7000

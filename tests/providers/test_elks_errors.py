"""Each provider failure becomes the matching ElksError; documented payloads parse leniently."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
import requests
import responses

from providers.elks import (
    ElksAuthError,
    ElksClient,
    ElksConnectionError,
    ElksError,
    ElksForbidden,
    ElksInvalidRequest,
    ElksInvalidResponse,
    ElksNotFound,
    ElksRateLimited,
    ElksServerError,
    ElksTimeout,
)
from providers.elks.sandbox import SandboxServer

# -- against the sandbox ------------------------------------------------------------------------


def test_wrong_password_is_an_auth_error(elks_sandbox: SandboxServer) -> None:
    client = ElksClient(base_url=elks_sandbox.base_url, username="sandbox-master", password="nope")
    with pytest.raises(ElksAuthError) as excinfo:
        client.me()
    err = excinfo.value
    assert type(err) is ElksAuthError and err.status == 401 and not err.retryable
    assert "credentials" in str(err)


def test_not_found(elks_master_client: ElksClient) -> None:
    with pytest.raises(ElksNotFound) as excinfo:
        elks_master_client.sms_get("s" + "0" * 32)
    assert excinfo.value.status == 404 and not excinfo.value.retryable


@pytest.mark.parametrize("mode", ["500", "502", "503"])
def test_server_errors_are_retryable(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient, mode: str
) -> None:
    elks_sandbox.set_chaos(rate=1, mode=mode)
    with pytest.raises(ElksServerError) as excinfo:
        elks_master_client.me()
    assert excinfo.value.status == int(mode) and excinfo.value.retryable
    assert f"HTTP {mode}" in str(excinfo.value)


def test_rate_limited(elks_sandbox: SandboxServer, elks_master_client: ElksClient) -> None:
    elks_sandbox.set_chaos(rate=1, mode="429", paths=["sms"], methods=["POST"])
    assert elks_master_client.me().id  # other paths unaffected
    with pytest.raises(ElksRateLimited) as excinfo:
        elks_master_client.sms_send(from_="Switchb", to="+46700000001", message="x")
    assert excinfo.value.retryable and excinfo.value.retry_after == 1.0
    assert list(elks_master_client.sms_list()) == []  # refused, so nothing was sent


def test_timeout_on_a_post_may_have_been_accepted(elks_sandbox: SandboxServer) -> None:
    client = ElksClient(
        base_url=elks_sandbox.base_url,
        username="sandbox-master",
        password="sandbox-master-secret",
        timeout=0.3,
    )
    elks_sandbox.set_chaos(rate=1, mode="timeout", timeout_sleep=1.0, paths=["sms"])
    with pytest.raises(ElksTimeout) as excinfo:
        client.sms_send(from_="Switchb", to="+46700000001", message="x")
    err = excinfo.value
    assert err.retryable and err.maybe_accepted and err.status is None
    assert "may still have been processed" in str(err)
    elks_sandbox.clear_chaos()
    # The sandbox, like 46elks, did the work: a blind retry would send twice.
    assert len(list(client.sms_list())) == 1

    elks_sandbox.set_chaos(rate=1, mode="timeout", timeout_sleep=1.0)
    with pytest.raises(ElksTimeout) as excinfo:
        client.me()
    assert not excinfo.value.maybe_accepted


def test_slow_chaos_only_adds_latency(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    elks_sandbox.set_chaos(rate=1, mode="slow", latency=0.2)
    started = datetime.now(UTC)
    assert elks_master_client.me().currency == "SEK"
    assert (datetime.now(UTC) - started).total_seconds() >= 0.2


def test_chaos_rate_zero_never_and_partial_rate_sometimes(
    elks_sandbox: SandboxServer, elks_master_client: ElksClient
) -> None:
    elks_sandbox.set_chaos(rate=0, mode="503")
    for _ in range(5):
        elks_master_client.me()
    elks_sandbox.set_chaos(rate=0.5, mode="503")
    outcomes = []
    for _ in range(30):
        try:
            elks_master_client.me()
            outcomes.append(True)
        except ElksServerError:
            outcomes.append(False)
    assert any(outcomes) and not all(outcomes)
    assert {r["chaos"] for r in elks_sandbox.api_requests(path="/a1/me")} == {None, "503"}


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    client = ElksClient(base_url=f"http://127.0.0.1:{port}/a1", username="u", password="p")
    with pytest.raises(ElksConnectionError) as excinfo:
        client.sms_send(from_="Switchb", to="+46700000001", message="x")
    err = excinfo.value
    assert err.retryable and not err.maybe_accepted and err.status is None
    assert isinstance(err, ElksError) and "Could not connect" in str(err)


# -- against documented payloads (responses) ----------------------------------------------------

BASE = "https://api.46elks.com/a1"


@pytest.fixture
def seed_client() -> ElksClient:
    return ElksClient(username="u", password="p", timeout=2)


@responses.activate
def test_plain_text_400_becomes_the_reason(seed_client: ElksClient) -> None:
    responses.post(f"{BASE}/sms", body='Missing key "to"', status=400)
    with pytest.raises(ElksInvalidRequest) as excinfo:
        seed_client.sms_send(from_="Switchb", to="", message="x")
    assert excinfo.value.reason == 'Missing key "to"'
    assert str(excinfo.value) == '46elks rejected the request: Missing key "to"'
    body = responses.calls[0].request.body
    assert "to=" in body and "from=Switchb" in body and "flashsms" not in body


@responses.activate
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ElksAuthError),
        (403, ElksForbidden),
        (404, ElksNotFound),
        (402, ElksInvalidRequest),
        (422, ElksInvalidRequest),
        (429, ElksRateLimited),
        (500, ElksServerError),
        (504, ElksServerError),
    ],
)
def test_status_mapping(seed_client: ElksClient, status: int, error: type[ElksError]) -> None:
    responses.get(f"{BASE}/me", body="nope", status=status)
    with pytest.raises(error) as excinfo:
        seed_client.me()
    assert type(excinfo.value) is error and excinfo.value.status == status
    assert excinfo.value.retryable == (status == 429 or status >= 500)


@responses.activate
def test_requests_timeout_and_non_json(seed_client: ElksClient) -> None:
    responses.get(f"{BASE}/me", body=requests.ReadTimeout("slow"))
    with pytest.raises(ElksTimeout):
        seed_client.me()
    responses.get(f"{BASE}/numbers", body="<html>oops</html>", status=200)
    with pytest.raises(ElksInvalidResponse):
        list(seed_client.numbers())


@responses.activate
def test_documented_payloads_parse(seed_client: ElksClient) -> None:
    responses.get(
        f"{BASE}/calls",
        json={
            "data": [
                {
                    "actions": [{"connect": "+4634090510", "result": "success"}],
                    "cost": "1500",
                    "created": "2016-11-03T09:24:24.355000",
                    "direction": "incoming",
                    "duration": 15,
                    "from": "+46723175800",
                    "id": "c595183c042b1e43d1c8e79b9fd5cbcab",
                    "legs": [{"duration": 14, "state": "success", "to": "+4634090510"}],
                    "start": "2016-11-03T09:24:24.333000",
                    "state": "success",
                    "to": "+46101994214",
                }
            ]
        },
    )
    responses.get(
        f"{BASE}/numbers/n53c05a4e002ae26f790cbaf82b93bc37",
        json={
            "active": True,
            "capabilities": ["sms", "voice"],
            "category": "mobile",
            "country": "se",
            "expires": "2016-12-01T07:52:15",
            "id": "n53c05a4e002ae26f790cbaf82b93bc37",
            "number": "+46766861475",
            "sms_replies": True,
            "voice_start": "http://www.server.nu/incommuingca",
            "some_future_field": {"x": 1},
        },
    )
    responses.get(
        f"{BASE}/subaccounts",
        json={
            "data": [
                {
                    "created": "2014-12-08T13:18:07.625000",
                    "id": "af3d05a159669e1951c5301bc6a61bac2",
                    "name": "This Co2",
                    "secret": "D81DEF1B65E19A83DBCEA0BE0D89D082",
                    "usage": 345300,
                    "usagelimit": 345350000,
                }
            ]
        },
    )
    responses.get(
        f"{BASE}/sms/s1",
        json={"id": "s1", "status": "delivered", "delivered": "2018-07-13T13:57:23Z"},
    )

    (call,) = seed_client.calls()
    assert call.cost == 1500 and call.duration == 15
    assert call.created == datetime(2016, 11, 3, 9, 24, 24, 355000, tzinfo=UTC)
    assert call.legs[0]["to"] == "+4634090510"
    number = seed_client.number_get("n53c05a4e002ae26f790cbaf82b93bc37")
    assert number.active and number.sms_replies and number.sms_url is None
    assert number.expires == datetime(2016, 12, 1, 7, 52, 15, tzinfo=UTC)
    (sub,) = seed_client.subaccounts()
    assert sub.balanceused == 345300 and sub.usagelimit == 345350000 and sub.active
    sms = seed_client.sms_get("s1")
    assert sms.delivered == datetime(2018, 7, 13, 13, 57, 23, tzinfo=UTC)
    assert sms.message is None and sms.cost is None


@responses.activate
def test_pagination_stops_when_next_repeats(seed_client: ElksClient) -> None:
    # A misbehaving server that keeps answering the same cursor must not loop forever.
    page = {"data": [{"id": "s2"}, {"id": "s1"}], "next": "2020-01-01T00:00:00.000000"}
    responses.get(f"{BASE}/sms", json=page)
    assert [s.id for s in seed_client.sms_list()] == ["s2", "s1"]
    assert len(responses.calls) == 2


@responses.activate
def test_pagination_skips_a_repeated_edge_row_and_stops_on_a_cycling_cursor(
    seed_client: ElksClient,
) -> None:
    # A server that repeats the previous page's last row (an inclusive start) is de-duplicated;
    # one whose next cursor jumps back to a newer time (here: the first one again) is left.
    first = "2020-01-03T00:00:00.000000"
    second = "2020-01-02T00:00:00.000000"
    responses.get(f"{BASE}/sms", json={"data": [{"id": "s3"}, {"id": "s2"}], "next": first})
    responses.get(f"{BASE}/sms", json={"data": [{"id": "s2"}, {"id": "s1"}], "next": second})
    responses.get(f"{BASE}/sms", json={"data": [{"id": "s1"}, {"id": "s0"}], "next": first})
    assert [s.id for s in seed_client.sms_list()] == ["s3", "s2", "s1", "s0"]
    assert len(responses.calls) == 3
    assert [c.request.params.get("start") for c in responses.calls] == [None, first, second]

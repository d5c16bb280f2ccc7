"""The Infobip sandbox itself, spoken to with raw ``requests``: auth, strictness, chaos, state
helpers, concurrency, the control API and the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.infobip.sandbox import InfobipSandbox
from tests.infobip_fixtures import INFOBIP_SANDBOX_API_KEY

# Imported so pytest finds them here until tests/conftest.py lists "tests.infobip_fixtures" in
# pytest_plugins; naming them keeps ruff from calling the imports unused. Drop both then.

AUTH = {"Authorization": f"App {INFOBIP_SANDBOX_API_KEY}"}
P = "/numbers/1/numbers"
ROOT = Path(__file__).resolve().parents[2]


def call(
    sandbox: InfobipSandbox,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    return requests.request(
        method,
        sandbox.base_url + path,
        headers=AUTH if headers is None else headers,
        timeout=5,
        **kwargs,
    )


def service_exception(response: requests.Response) -> dict[str, Any]:
    return response.json()["requestError"]["serviceException"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "App wrong"}, {"Authorization": "Basic dTpw"}, {"Authorization": "App"}],
)
def test_auth_is_required_with_the_documented_body(
    infobip_sandbox: InfobipSandbox, headers: dict[str, str]
) -> None:
    response = call(infobip_sandbox, "GET", P, headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "requestError": {
            "serviceException": {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}
        }
    }


def test_scheme_is_case_insensitive(infobip_sandbox: InfobipSandbox) -> None:
    headers = {"Authorization": f"app {INFOBIP_SANDBOX_API_KEY}"}
    assert call(infobip_sandbox, "GET", P, headers=headers).status_code == 200


def test_country_is_required_and_the_seed_comma_form_of_capabilities_works(
    infobip_sandbox: InfobipSandbox,
) -> None:
    missing = call(infobip_sandbox, "GET", f"{P}/available")
    assert missing.status_code == 400
    assert service_exception(missing)["validationErrors"] == {"country": ["must not be null"]}
    # The seed's own example query, on the old prefix.
    seed = call(
        infobip_sandbox,
        "GET",
        "/sms/1/numbers/available?limit=3&page=0&capabilities=SMS,VOICE&country=SE",
    )
    assert seed.status_code == 200
    body = seed.json()
    assert body["numberCount"] == 6 and len(body["numbers"]) == 3
    first = body["numbers"][0]
    assert set(first) >= {"numberKey", "number", "country", "type", "capabilities", "shared"}
    assert set(first["price"]) == {"pricePerMonth", "setupPrice", "initialMonthPrice", "currency"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=SE&limit=0", "limit"),
        ("country=SE&limit=abc", "limit"),
        ("country=SE&limit=101", "limit"),
        ("country=SE&page=-1", "page"),
        ("country=SE&capabilities=FAX", "capabilities"),
        ("country=SE&number=%2B46", "number"),
        ("country=SE&country=NO", "country"),
    ],
)
def test_bad_query_parameters(infobip_sandbox: InfobipSandbox, query: str, field: str) -> None:
    response = call(infobip_sandbox, "GET", f"{P}/available?{query}")
    assert response.status_code == 400
    assert field in service_exception(response)["validationErrors"]


def test_purchase_is_strict_about_its_body(infobip_sandbox: InfobipSandbox) -> None:
    key = infobip_sandbox.available_numbers("SE")[0]["numberKey"]
    unknown = call(infobip_sandbox, "POST", P, json={"numberKey": key, "quantity": 2})
    assert unknown.status_code == 400
    assert service_exception(unknown)["validationErrors"] == {"quantity": ["unknown field"]}

    broken = call(
        infobip_sandbox,
        "POST",
        P,
        data=b"{numberKey:",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and service_exception(broken)["text"] == "Malformed JSON body"
    form = call(infobip_sandbox, "POST", P, data={"numberKey": key})
    assert form.status_code == 415
    listed = call(infobip_sandbox, "POST", P, json=[key])
    assert listed.status_code == 400

    both = call(infobip_sandbox, "POST", P, json={"numberKey": key, "number": "1"})
    assert "number" in service_exception(both)["validationErrors"]
    neither = call(infobip_sandbox, "POST", P, json={"applicationId": "x"})
    assert "numberKey" in service_exception(neither)["validationErrors"]
    wrong_type = call(infobip_sandbox, "POST", P, json={"numberKey": 7})
    assert service_exception(wrong_type)["validationErrors"] == {"numberKey": ["must be a string"]}
    by_number = call(infobip_sandbox, "POST", P, json={"number": "46769436001"})
    assert "only US numbers" in str(service_exception(by_number)["validationErrors"])
    assert infobip_sandbox.owned_numbers() == []  # none of that bought anything


def test_put_and_delete_rules(infobip_sandbox: InfobipSandbox) -> None:
    key = infobip_sandbox.available_numbers("GB")[0]["numberKey"]
    assert (
        call(infobip_sandbox, "PUT", f"{P}/{key}", json={"applicationId": "a"}).status_code == 404
    )
    assert call(infobip_sandbox, "DELETE", f"{P}/{key}").status_code == 404  # for sale, not owned
    owned = infobip_sandbox.give(key)
    assert infobip_sandbox.owned_number(key) == owned
    assert infobip_sandbox.owned_number("+" + owned["number"]) == owned
    assert infobip_sandbox.owned_number("0000") is None
    extra = call(infobip_sandbox, "PUT", f"{P}/{key}", json={"applicationId": "a", "shared": True})
    assert service_exception(extra)["validationErrors"] == {"shared": ["unknown field"]}
    assert call(infobip_sandbox, "PUT", f"{P}/{key}", json={}).status_code == 400
    ok = call(infobip_sandbox, "PUT", f"{P}/{key}", json={"entityId": "e1"})
    assert ok.status_code == 200 and ok.json()["entityId"] == "e1"
    gone = call(infobip_sandbox, "DELETE", f"{P}/{key}")
    assert gone.status_code == 204 and gone.content == b""


def test_unknown_paths_methods_and_unencoded_keys(infobip_sandbox: InfobipSandbox) -> None:
    assert call(infobip_sandbox, "GET", "/numbers/2/whatever").status_code == 404
    assert call(infobip_sandbox, "DELETE", P).status_code == 405
    assert call(infobip_sandbox, "POST", f"{P}/available", json={}).status_code == 405
    infobip_sandbox.give("3B9D1EACAB7FBDRN%EE03592BFCD6BE")
    raw = call(infobip_sandbox, "GET", f"{P}/3B9D1EACAB7FBDRN%EE03592BFCD6BE")
    assert raw.status_code == 404 and raw.content == b""  # "%EE" decodes to another key
    encoded = call(infobip_sandbox, "GET", f"{P}/3B9D1EACAB7FBDRN%25EE03592BFCD6BE")
    assert encoded.status_code == 200


def test_concurrent_purchases_of_one_number_sell_it_once(infobip_sandbox: InfobipSandbox) -> None:
    key = infobip_sandbox.available_numbers("US")[0]["numberKey"]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def buy() -> None:
        barrier.wait()
        statuses.append(call(infobip_sandbox, "POST", P, json={"numberKey": key}).status_code)

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 7
    assert len(infobip_sandbox.owned_numbers()) == 1


def test_chaos_filters_count_and_slow_mode(infobip_sandbox: InfobipSandbox) -> None:
    infobip_sandbox.set_chaos(rate=1, mode="500", paths=[P], methods=["GET"], count=2)
    assert call(infobip_sandbox, "GET", "/sms/1/numbers").status_code == 200  # other prefix
    assert [call(infobip_sandbox, "GET", P).status_code for _ in range(3)] == [500, 500, 200]
    assert [r["chaos"] for r in infobip_sandbox.api_requests(path=P)] == ["500", "500", None]

    infobip_sandbox.set_chaos(rate=1, mode="slow", latency=0.2)
    started = time.monotonic()
    assert call(infobip_sandbox, "GET", P).status_code == 200
    assert time.monotonic() - started >= 0.2

    infobip_sandbox.set_chaos(rate=0.5, mode="503")
    outcomes = {call(infobip_sandbox, "GET", P).status_code for _ in range(30)}
    assert outcomes == {200, 503}
    with pytest.raises(ValueError):
        infobip_sandbox.set_chaos(rate=1, mode="502")


def test_reset_restores_inventory_settings_and_log(infobip_sandbox: InfobipSandbox) -> None:
    before = infobip_sandbox.available_numbers()
    infobip_sandbox.give(before[0]["numberKey"])
    infobip_sandbox.add_available("FI", ["358401234567"], ["SMS"])
    infobip_sandbox.configure(error_shape="resources")
    call(infobip_sandbox, "GET", P)
    infobip_sandbox.reset()
    assert infobip_sandbox.available_numbers() == before
    assert infobip_sandbox.owned_numbers() == [] and infobip_sandbox.api_requests() == []
    assert "requestError" in call(infobip_sandbox, "GET", f"{P}/available").json()


def test_control_api(infobip_sandbox: InfobipSandbox) -> None:
    base = infobip_sandbox.base_url + "/sandbox"
    added = requests.post(
        f"{base}/available",
        json={"country": "FI", "numbers": ["358401230001"], "capabilities": ["SMS", "VOICE"]},
        timeout=5,
    ).json()
    [key] = added["numberKeys"]
    chaos = requests.post(f"{base}/chaos", json={"rate": 1, "mode": "429"}, timeout=5).json()
    assert chaos["mode"] == "429"
    assert call(infobip_sandbox, "POST", P, json={"numberKey": key}).status_code == 429
    requests.delete(f"{base}/chaos", timeout=5)
    assert call(infobip_sandbox, "POST", P, json={"numberKey": key}).status_code == 200
    state = requests.get(f"{base}/state", timeout=5).json()
    assert [n["numberKey"] for n in state["owned"]] == [key]
    assert requests.post(f"{base}/chaos", json={"mode": "x"}, timeout=5).status_code == 400
    assert requests.get(f"{base}/nope", timeout=5).status_code == 404
    assert len(requests.get(f"{base}/requests", timeout=5).json()) == 2
    requests.post(f"{base}/reset", timeout=5)
    assert infobip_sandbox.owned_numbers() == []


def test_command_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "providers.infobip.sandbox", "--port", str(port), "--api-key", "k"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/numbers/1/numbers/available?country=SE"
        deadline = time.monotonic() + 10
        while True:
            try:
                response = requests.get(url, headers={"Authorization": "App k"}, timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["numberCount"] == 12
    finally:
        process.terminate()
        process.wait(timeout=5)

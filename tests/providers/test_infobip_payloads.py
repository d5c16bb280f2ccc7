"""InfobipClient against canned answers (``responses``): the seed's documented payloads parse
leniently, every status maps to its error, odd bodies do not crash the client."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
import responses

from providers.infobip import (
    InfobipAuthError,
    InfobipClient,
    InfobipError,
    InfobipInvalidRequest,
    InfobipInvalidResponse,
    InfobipNotFound,
    InfobipNumber,
    InfobipRateLimited,
    InfobipServerError,
    InfobipTimeout,
    NumberPage,
)
from providers.infobip.client import parse_error_body

BASE = "https://xyz123.api.infobip.com"
NUMBERS = f"{BASE}/numbers/1/numbers"

# The seed's "List available numbers" answer, verbatim.
SEED_AVAILABLE = {
    "numbers": [
        {
            "numberKey": "78D8394AC3EG0460B4CF0E723FC31B49",
            "number": "79029555551",
            "country": "RU",
            "type": "VIRTUAL_LONG_NUMBER",
            "capabilities": ["SMS"],
            "shared": False,
            "price": {
                "pricePerMonth": 15,
                "setupPrice": 0,
                "initialMonthPrice": 9.193549,
                "currency": "EUR",
            },
        },
        {
            "numberKey": "3B9D1EACAB7FBDRN%EE03592BFCD6BE",
            "number": "79029555525",
            "country": "RU",
            "type": "VIRTUAL_LONG_NUMBER",
            "capabilities": ["SMS"],
            "shared": False,
            "price": {
                "pricePerMonth": 15,
                "setupPrice": 0,
                "initialMonthPrice": 9.193549,
                "currency": "EUR",
            },
        },
    ],
    "numberCount": 2,
}


@pytest.fixture
def client() -> InfobipClient:
    return InfobipClient(base_url=BASE + "/", api_key="secret-key", timeout=2)


@responses.activate
def test_seed_available_answer_parses_with_exact_prices(client: InfobipClient) -> None:
    responses.get(f"{NUMBERS}/available", json=SEED_AVAILABLE)
    page = client.available(country="ru", capabilities=["SMS", "VOICE"], number="7902955", limit=3)
    assert page.number_count == 2 and [n.number for n in page.numbers] == [
        "79029555551",
        "79029555525",
    ]
    price = page.numbers[1].price
    assert price is not None
    assert price.initial_month_price == Decimal("9.193549")  # not 9.19354899999...
    assert (price.price_per_month, price.setup_price, price.currency) == (15, 0, "EUR")
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "App secret-key"
    assert request.headers["Accept"] == "application/json"
    assert request.url == (
        f"{NUMBERS}/available?country=RU&capabilities=SMS&capabilities=VOICE"
        "&number=7902955&limit=3&page=0"
    )


@responses.activate
def test_seed_single_number_answer_and_a_legacy_prefix(client: InfobipClient) -> None:
    legacy = InfobipClient(base_url=BASE, api_key="k", numbers_prefix="sms/1/numbers/")
    responses.get(
        f"{BASE}/sms/1/numbers/6FED0BC540BFADD9B05ED7D89AAC22FA",
        json={
            "numberKey": "6FED0BC540BFADD9B05ED7D89AAC22FA",
            "number": "447860041117",
            "country": "GB",
            "type": "VIRTUAL_LONG_NUMBER",
            "capabilities": ["SMS"],
            "shared": False,
            "price": {"pricePerMonth": 5, "setupPrice": 0, "currency": "EUR"},
        },
    )
    number = legacy.get("6FED0BC540BFADD9B05ED7D89AAC22FA")
    assert number.number == "447860041117" and number.price is not None
    assert number.price.initial_month_price is None and number.application_id is None


def test_number_parser_tolerates_missing_and_odd_fields() -> None:
    sparse = InfobipNumber.from_api({"numberKey": "K", "number": "+46 70 123"})
    assert sparse.number == "4670123" and sparse.capabilities == [] and sparse.price is None
    assert sparse.country is None and sparse.shared is None
    odd = InfobipNumber.from_api(
        {
            "numberKey": "K",
            "number": 14155550100,
            "country": "us",
            "capabilities": "sms,voice",
            "shared": "true",
            "price": {"pricePerMonth": "1.50", "setupPrice": None, "initialMonthPrice": "n/a"},
            "applicationId": "default",
            "network": "T-Mobile",
            "somethingNew": {"x": 1},
        }
    )
    assert odd.number == "14155550100" and odd.country == "US"
    assert odd.capabilities == ["SMS", "VOICE"] and odd.shared is True
    assert odd.price is not None and odd.price.price_per_month == Decimal("1.50")
    assert odd.price.setup_price is None and odd.price.initial_month_price is None
    assert odd.raw["somethingNew"] == {"x": 1} and odd.network == "T-Mobile"
    page = NumberPage.from_api({"numbers": "oops", "numberCount": "n/a"}, page=0, limit=10)
    assert page.numbers == [] and page.number_count == 0 and not page.has_more


@responses.activate
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InfobipInvalidRequest),
        (401, InfobipAuthError),
        (403, InfobipAuthError),
        (404, InfobipNotFound),
        (409, InfobipInvalidRequest),
        (422, InfobipInvalidRequest),
        (429, InfobipRateLimited),
        (500, InfobipServerError),
        (502, InfobipServerError),
        (504, InfobipServerError),
    ],
)
def test_status_mapping(client: InfobipClient, status: int, error: type[InfobipError]) -> None:
    responses.get(NUMBERS, body="", status=status)
    with pytest.raises(error) as excinfo:
        client.owned()
    assert type(excinfo.value) is error and excinfo.value.status == status
    assert excinfo.value.retryable == (status == 429 or status >= 500)
    assert str(excinfo.value)  # always a readable sentence, even without a body


@responses.activate
def test_403_policy_and_429_resources_shape_with_retry_after(client: InfobipClient) -> None:
    responses.get(
        NUMBERS,
        status=403,
        json={"requestError": {"serviceException": {"messageId": "FORBIDDEN", "text": "No"}}},
    )
    with pytest.raises(InfobipAuthError, match="refused access: No") as auth:
        client.owned()
    assert auth.value.message_id == "FORBIDDEN"

    responses.post(
        NUMBERS,
        status=429,
        headers={"Retry-After": "2"},
        json={
            "errorCode": "E429",
            "description": "Too many requests",
            "action": "Slow down.",
            "violations": [],
            "resources": [],
        },
    )
    with pytest.raises(InfobipRateLimited) as limited:
        client.purchase(number_key="K")
    err = limited.value
    assert err.retry_after == 2.0 and err.message_id == "E429"
    assert err.text == "Too many requests. Slow down." and err.validation_errors == {}


@responses.activate
def test_unreadable_success_answers(client: InfobipClient) -> None:
    responses.get(NUMBERS, body="<html>maintenance</html>", status=200)
    with pytest.raises(InfobipInvalidResponse) as excinfo:
        client.owned()
    assert not excinfo.value.retryable and "maintenance" in excinfo.value.text
    responses.replace(responses.GET, NUMBERS, json=[1, 2], status=200)
    with pytest.raises(InfobipInvalidResponse):
        client.owned()


@responses.activate
def test_update_answered_with_204_reads_the_number_back(client: InfobipClient) -> None:
    responses.put(f"{NUMBERS}/K%2F1", status=204)
    responses.get(f"{NUMBERS}/K%2F1", json={"numberKey": "K/1", "applicationId": "a"})
    assert client.update("K/1", application_id="a").application_id == "a"
    assert responses.calls[0].request.body == b'{"applicationId": "a"}'


@responses.activate
def test_read_timeout_on_purchase_may_have_been_accepted(client: InfobipClient) -> None:
    responses.post(NUMBERS, body=requests.ReadTimeout("slow"))
    with pytest.raises(InfobipTimeout) as excinfo:
        client.purchase(number_key="K")
    assert excinfo.value.maybe_accepted
    responses.post(NUMBERS, body=requests.ConnectTimeout("never connected"))
    with pytest.raises(InfobipTimeout) as excinfo:
        client.purchase(number_key="K")
    assert not excinfo.value.maybe_accepted  # nothing was sent


def test_parse_error_body_shapes() -> None:
    assert parse_error_body(
        {
            "requestError": {
                "serviceException": {
                    "messageId": "BAD_REQUEST",
                    "text": "Bad request",
                    "validationErrors": {"limit": "must be positive", "page": ["a", "b"]},
                }
            }
        }
    ) == ("BAD_REQUEST", "Bad request", {"limit": ["must be positive"], "page": ["a", "b"]})
    assert parse_error_body(
        {
            "errorCode": "E400",
            "description": "Invalid request",
            "violations": [
                {"property": "countryCode", "violation": "must not be blank"},
                {"property": "countryCode", "violation": "must be ISO-2"},
            ],
        }
    ) == ("E400", "Invalid request", {"countryCode": ["must not be blank", "must be ISO-2"]})
    assert parse_error_body(None) == (None, "", {})
    assert parse_error_body({"unexpected": True}) == (None, "", {})
    assert parse_error_body("text") == (None, "", {})

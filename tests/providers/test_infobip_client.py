"""InfobipClient against the Infobip sandbox over real HTTP: search, buy, list, update, cancel,
and each error class raised for the answer Infobip documents."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from providers.infobip import (
    LEGACY_NUMBERS_PREFIX,
    InfobipAuthError,
    InfobipClient,
    InfobipConnectionError,
    InfobipError,
    InfobipInvalidRequest,
    InfobipNotFound,
    InfobipRateLimited,
    InfobipServerError,
    InfobipTimeout,
)
from providers.infobip.sandbox import InfobipSandbox
from tests.infobip_fixtures import INFOBIP_SANDBOX_API_KEY

# Imported so pytest finds them here until tests/conftest.py lists "tests.infobip_fixtures" in
# pytest_plugins; naming them keeps ruff from calling the imports unused. Drop both then.

PREFIXES = ["/numbers/1/numbers", LEGACY_NUMBERS_PREFIX]
PERCENT_KEY = "3B9D1EACAB7FBDRN%EE03592BFCD6BE"  # from Infobip's own docs sample


def _client(
    sandbox: InfobipSandbox, prefix: str = "/numbers/1/numbers", timeout: float = 3.0
) -> InfobipClient:
    return InfobipClient(
        base_url=sandbox.base_url,
        api_key=INFOBIP_SANDBOX_API_KEY,
        numbers_prefix=prefix,
        timeout=timeout,
    )


# -- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_available_filters_by_country_and_every_capability(
    infobip_sandbox: InfobipSandbox, prefix: str
) -> None:
    client = _client(infobip_sandbox, prefix)
    page = client.available(country="se", capabilities=["sms", "voice"], limit=50)
    assert page.number_count == 6 and len(page.numbers) == 6
    assert all(n.country == "SE" and n.has("SMS", "VOICE") for n in page.numbers)
    assert all(n.number.startswith("46") and n.number_key for n in page.numbers)

    request = infobip_sandbox.api_requests(method="GET", path=f"{prefix}/available")[-1]
    assert request["path"] == f"{prefix}/available" and request["auth_ok"]
    # Capabilities go out as a repeated query parameter, country upper-cased.
    assert request["params"] == {
        "country": "SE",
        "capabilities": ["SMS", "VOICE"],
        "limit": "50",
        "page": "0",
    }

    sms_only = client.available(country="SE", capabilities=["SMS"], limit=50)
    assert sms_only.number_count == 12
    assert client.available(country="DE", capabilities=["MMS"]).numbers == []


@pytest.mark.parametrize("prefix", PREFIXES)
def test_available_pages_with_limit_and_page(infobip_sandbox: InfobipSandbox, prefix: str) -> None:
    client = _client(infobip_sandbox, prefix)
    pages = [client.available(country="SE", limit=5, page=n) for n in range(4)]
    assert [len(p.numbers) for p in pages] == [5, 5, 2, 0]
    assert {p.number_count for p in pages} == {12}
    assert [p.has_more for p in pages] == [True, True, False, False]
    numbers = [n.number for p in pages for n in p.numbers]
    assert numbers == sorted(numbers) and len(set(numbers)) == 12
    assert pages[1].page == 1 and pages[1].limit == 5


def test_available_default_limit_is_ten_and_number_filter_matches_digits(
    infobip_client: InfobipClient,
) -> None:
    assert len(infobip_client.available(country="GB").numbers) == 10
    page = infobip_client.available(country="GB", number="+44 7860 0411")
    assert page.number_count == 8
    assert all("44786004111" in n.number for n in page.numbers[:8])
    exact = infobip_client.available(country="SE", number="46769436007")
    assert [n.number for n in exact.numbers] == ["46769436007"]


def test_prices_are_exact_decimals(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_sandbox.clear_available("NO")
    infobip_sandbox.add_available(
        "NO",
        ["4759990001"],
        ["SMS", "VOICE"],
        {"pricePerMonth": "9.99", "setupPrice": "1.25", "currency": "NOK"},
    )
    [number] = infobip_client.available(country="NO").numbers
    assert number.price is not None
    assert number.price.price_per_month == Decimal("9.99")
    assert number.price.setup_price == Decimal("1.25")
    assert number.price.currency == "NOK"
    initial = number.price.initial_month_price
    assert isinstance(initial, Decimal) and Decimal(0) < initial <= Decimal("9.99")
    assert initial == initial.quantize(Decimal("0.000001"))


# -- purchase -----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_purchase_moves_the_number_to_owned(infobip_sandbox: InfobipSandbox, prefix: str) -> None:
    client = _client(infobip_sandbox, prefix)
    offer = client.available(country="GB", capabilities=["SMS", "VOICE"]).numbers[0]

    bought = client.purchase(number_key=offer.number_key, application_id="switchboard")
    assert (bought.number_key, bought.number) == (offer.number_key, offer.number)
    assert bought.application_id == "switchboard" and bought.entity_id is None
    assert bought.price is not None and bought.price.initial_month_price is None  # as documented

    request = infobip_sandbox.api_requests(method="POST", path=prefix)[-1]
    assert request["body"] == {"numberKey": offer.number_key, "applicationId": "switchboard"}
    assert [n["numberKey"] for n in infobip_sandbox.owned_numbers()] == [offer.number_key]
    still_for_sale = client.available(country="GB", capabilities=["SMS", "VOICE"])
    assert offer.number_key not in {n.number_key for n in still_for_sale.numbers}

    with pytest.raises(InfobipInvalidRequest, match="not available") as excinfo:
        client.purchase(number_key=offer.number_key)
    assert excinfo.value.status == 400 and not excinfo.value.retryable
    assert len(infobip_sandbox.owned_numbers()) == 1


def test_purchase_a_us_number_by_number(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    bought = infobip_client.purchase(number="+1 (415) 523-0101", entity_id="acme")
    assert bought.number == "14155230101" and bought.country == "US"
    assert bought.entity_id == "acme" and bought.application_id == "default"
    body = infobip_sandbox.api_requests(method="POST")[-1]["body"]
    assert body == {"number": "14155230101", "entityId": "acme"}


def test_purchase_accepts_201_created(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_sandbox.configure(purchase_status=201)
    offer = infobip_client.available(country="DE").numbers[0]
    assert infobip_client.purchase(number_key=offer.number_key).number == offer.number
    assert infobip_sandbox.api_requests(method="POST")[-1]["status"] == 201


def test_purchase_needs_exactly_one_of_key_or_number(infobip_client: InfobipClient) -> None:
    with pytest.raises(ValueError):
        infobip_client.purchase()
    with pytest.raises(ValueError):
        infobip_client.purchase(number_key="K", number="1415")


# -- owned --------------------------------------------------------------------------------------


def test_owned_pages_and_iter_owned_walks_them_all(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    keys = [n["numberKey"] for n in infobip_sandbox.available_numbers("SE")]
    for key in keys:
        infobip_sandbox.give(key)

    last = infobip_client.owned(limit=5, page=2)
    assert last.number_count == 12 and len(last.numbers) == 2 and not last.has_more
    assert [n.number_key for n in last.numbers] == keys[10:]
    assert all(n.application_id == "default" for n in last.numbers)

    before = len(infobip_sandbox.api_requests(method="GET"))
    walked = [n.number_key for n in infobip_client.iter_owned(limit=5)]
    assert walked == keys
    assert len(infobip_sandbox.api_requests(method="GET")) - before == 3
    assert [n.number_key for n in infobip_client.iter_owned()] == keys  # one page of 50


def test_get_one_encodes_a_key_with_a_percent_sign(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_client.purchase(number_key=PERCENT_KEY)
    number = infobip_client.get(PERCENT_KEY)
    assert number.number_key == PERCENT_KEY and number.number == "79029555525"
    assert number.country == "RU" and number.capabilities == ["SMS"] and number.shared is False
    path = infobip_sandbox.api_requests(method="GET")[-1]["path"]
    assert path == "/numbers/1/numbers/3B9D1EACAB7FBDRN%25EE03592BFCD6BE"


def test_update_application_and_entity(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    key = infobip_client.available(country="US").numbers[0].number_key
    infobip_client.purchase(number_key=key)
    updated = infobip_client.update(key, application_id="app-2", entity_id="tenant-7")
    assert (updated.application_id, updated.entity_id) == ("app-2", "tenant-7")
    assert infobip_sandbox.api_requests(method="PUT")[-1]["body"] == {
        "applicationId": "app-2",
        "entityId": "tenant-7",
    }
    again = infobip_client.update(key, entity_id="tenant-8")
    assert (again.application_id, again.entity_id) == ("app-2", "tenant-8")
    assert infobip_client.get(key).entity_id == "tenant-8"
    with pytest.raises(ValueError, match="nothing to update"):
        infobip_client.update(key)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_cancel_gives_the_number_back(infobip_sandbox: InfobipSandbox, prefix: str) -> None:
    client = _client(infobip_sandbox, prefix)
    key = client.available(country="NO").numbers[0].number_key
    client.purchase(number_key=key)

    assert client.cancel(key) is None
    delete = infobip_sandbox.api_requests(method="DELETE")[-1]
    assert delete["status"] == 204 and delete["path"].startswith(prefix + "/")
    assert infobip_sandbox.owned_numbers() == []
    assert key in {n.number_key for n in client.available(country="NO").numbers}
    with pytest.raises(InfobipNotFound):
        client.get(key)
    with pytest.raises(InfobipNotFound):
        client.cancel(key)  # a repeated DELETE is an error...
    client.cancel(key, missing_ok=True)  # ...unless the caller says "already gone is fine"


# -- a purchase whose answer was lost -----------------------------------------------------------


def test_find_owned_after_a_timed_out_purchase_shows_it_went_through(
    infobip_sandbox: InfobipSandbox,
) -> None:
    client = _client(infobip_sandbox, timeout=0.3)
    offer = client.available(country="SE").numbers[0]
    assert client.find_owned(offer.number) is None

    infobip_sandbox.set_chaos(rate=1, mode="timeout", timeout_sleep=1.0, methods=["POST"])
    with pytest.raises(InfobipTimeout) as excinfo:
        client.purchase(number_key=offer.number_key)
    err = excinfo.value
    assert err.retryable and err.maybe_accepted and err.status is None
    assert "may still have been processed" in str(err)
    infobip_sandbox.clear_chaos()

    # Do not buy again blindly: look first. The sandbox, like Infobip, did the work.
    found = client.find_owned("+" + offer.number)
    assert found is not None and found.number_key == offer.number_key
    assert len(infobip_sandbox.api_requests(method="POST")) == 1
    assert infobip_sandbox.api_requests(method="GET")[-1]["params"]["number"] == offer.number


def test_find_owned_wants_the_exact_number_not_a_partial_match(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_sandbox.clear_available("SE")
    short, longer = infobip_sandbox.add_available("SE", ["4670000001", "46700000012"], ["SMS"])
    infobip_sandbox.give(longer)
    assert infobip_client.find_owned("4670000001") is None  # only a longer number contains it
    infobip_sandbox.give(short)
    found = infobip_client.find_owned("+46 700 000 01")
    assert found is not None and found.number_key == short


# -- every error class for its documented answer ------------------------------------------------


def test_400_carries_service_exception_text_and_validation_errors(
    infobip_client: InfobipClient,
) -> None:
    with pytest.raises(InfobipInvalidRequest) as excinfo:
        infobip_client.available(country="", limit=0)
    err = excinfo.value
    assert err.status == 400 and not err.retryable and not err.maybe_accepted
    assert err.message_id == "BAD_REQUEST" and err.text == "Bad request"
    assert err.validation_errors == {
        "country": ["must not be null"],
        "limit": ["must be between 1 and 100"],
    }
    assert str(err) == (
        "Infobip rejected the request: Bad request "
        "(country: must not be null; limit: must be between 1 and 100)"
    )


def test_resources_api_shaped_errors_parse_too(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_sandbox.configure(error_shape="resources")
    with pytest.raises(InfobipInvalidRequest) as excinfo:
        infobip_client.available(country="SWE")
    err = excinfo.value
    assert err.message_id == "E400" and err.status == 400
    assert err.validation_errors == {"country": ["must be an ISO 3166-1 alpha-2 code"]}
    assert err.text == "Bad request. Check the request and try again."
    assert "country: must be an ISO 3166-1 alpha-2 code" in str(err)


def test_401_wrong_api_key(infobip_sandbox: InfobipSandbox) -> None:
    client = InfobipClient(base_url=infobip_sandbox.base_url, api_key="not-the-key")
    with pytest.raises(InfobipAuthError) as excinfo:
        client.owned()
    err = excinfo.value
    assert type(err) is InfobipAuthError and err.status == 401 and not err.retryable
    assert (err.message_id, err.text) == ("UNAUTHORIZED", "Invalid login details")
    assert "rejected the API key: Invalid login details" in str(err)
    assert infobip_sandbox.api_requests()[-1]["auth_ok"] is False


def test_404_with_an_empty_body(infobip_client: InfobipClient) -> None:
    with pytest.raises(InfobipNotFound) as excinfo:
        infobip_client.get("0" * 32)
    err = excinfo.value
    assert err.status == 404 and not err.retryable
    assert err.message_id is None and err.text == "" and err.validation_errors == {}
    assert str(err).startswith("Not found at Infobip (GET /numbers/1/numbers/000")


def test_429_is_retryable_and_nothing_was_bought(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    key = infobip_client.available(country="SE").numbers[0].number_key
    infobip_sandbox.set_chaos(rate=1, mode="429", methods=["POST"])
    with pytest.raises(InfobipRateLimited) as excinfo:
        infobip_client.purchase(number_key=key)
    err = excinfo.value
    assert err.status == 429 and err.retryable and err.message_id == "TOO_MANY_REQUESTS"
    assert err.retry_after is None  # the sandbox, like Infobip's docs, sends no Retry-After
    assert infobip_sandbox.owned_numbers() == []
    infobip_sandbox.clear_chaos()
    assert infobip_client.purchase(number_key=key).number_key == key  # the retry works


def test_500_json_and_503_html_are_retryable_server_errors(
    infobip_sandbox: InfobipSandbox, infobip_client: InfobipClient
) -> None:
    infobip_sandbox.set_chaos(rate=1, mode="500")
    with pytest.raises(InfobipServerError) as excinfo:
        infobip_client.owned()
    err = excinfo.value
    assert err.status == 500 and err.retryable and err.message_id == "GENERAL_ERROR"
    assert not err.maybe_accepted  # a GET changes nothing
    assert "HTTP 500" in str(err)

    infobip_sandbox.set_chaos(rate=1, mode="503")
    with pytest.raises(InfobipServerError) as excinfo:
        infobip_client.purchase(number_key="ANY")
    err = excinfo.value
    assert err.status == 503 and err.retryable and err.text == ""  # HTML body ignored
    assert err.maybe_accepted and "check before retrying" in str(err)


def test_timeout_on_a_read_is_not_maybe_accepted_but_on_a_delete_it_is(
    infobip_sandbox: InfobipSandbox,
) -> None:
    client = _client(infobip_sandbox, timeout=0.3)
    key = client.available(country="GB").numbers[0].number_key
    client.purchase(number_key=key)
    infobip_sandbox.set_chaos(rate=1, mode="timeout", timeout_sleep=1.0)
    with pytest.raises(InfobipTimeout) as excinfo:
        client.get(key)
    assert excinfo.value.retryable and not excinfo.value.maybe_accepted
    with pytest.raises(InfobipTimeout) as excinfo:
        client.cancel(key)
    assert excinfo.value.maybe_accepted
    infobip_sandbox.clear_chaos()
    assert infobip_sandbox.owned_numbers() == []  # the DELETE went through
    client.cancel(key, missing_ok=True)  # so the safe retry treats the 404 as done


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    client = InfobipClient(base_url=f"http://127.0.0.1:{port}", api_key="k", timeout=2)
    with pytest.raises(InfobipConnectionError) as excinfo:
        client.purchase(number_key="K")
    err = excinfo.value
    assert err.retryable and not err.maybe_accepted and err.status is None
    assert isinstance(err, InfobipError) and "Could not connect" in str(err)

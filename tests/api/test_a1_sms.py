"""POST /a1/sms: 46elks' parameters and answers, through the compose page's services."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from billing.models import BillingAccount
from messaging.models import Message
from messaging.public_ids import message_public_id
from messaging.services import message_send, optout_record
from messaging.sync import outbox_sweep
from tests.api.a1_helpers import CUSTOMER, post, tenant_key, text
from tests.factories import approved_sender


@pytest.fixture
def number(rented_number):
    return rented_number


def _sms_posts(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/sms"))


def _send(live_tenant, number, **extra: str):
    client = tenant_key(live_tenant).client()
    data = {"from": number.number, "to": CUSTOMER, "message": "Hello"} | extra
    return post(client, "/a1/sms", data)


def test_a_send_answers_in_46elks_shape_with_the_tenants_price(live_tenant, number, elks):
    response = _send(live_tenant, number)
    assert response.status_code == 200, text(response)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    message = Message.objects.get()
    assert body["id"] == message_public_id(message) and body["id"].startswith("s")
    assert body["status"] == "created"
    assert (body["direction"], body["from"], body["to"]) == ("outgoing", number.number, CUSTOMER)
    assert (body["message"], body["parts"]) == ("Hello", 1)
    assert body["cost"] == message.reserved > 0  # the tenant's estimate, not 46elks' 3500
    assert message.source == Message.Source.API and message.sender is None
    # Queued: the worker sends it once through 46elks, at the tenant's own price.
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "created" and _sms_posts(elks) == 1
    got = tenant_key(live_tenant).client().get(f"/a1/sms/{body['id']}").json()
    assert got["cost"] == message.price and got["cost"] != message.cost


def test_a_plus_sent_unencoded_is_read_back_as_in_46elks_curl_examples(live_tenant, number, elks):
    client = tenant_key(live_tenant).client()
    body = f"from={number.number.replace('+', '%2B')}&to=+46700000001&message=Hi"
    response = client.post("/a1/sms", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, text(response)
    assert response.json()["to"] == CUSTOMER


def test_flash_and_whendelivered_are_stored(live_tenant, number, elks, settings):
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    response = _send(
        live_tenant, number, flashsms="yes", whendelivered="https://93.184.216.34/dlr?x=1"
    )
    assert response.status_code == 200, text(response)
    assert response.json()["flashsms"] == "yes"
    message = Message.objects.get()
    assert message.flash and message.whendelivered == "https://93.184.216.34/dlr?x=1"
    assert message.delivery_report  # our own report URL still goes to 46elks
    message_send(message_id=message.pk)
    sent = elks.api_requests(method="POST", path="/a1/sms")[0]["params"]
    assert sent["whendelivered"].endswith(f"/hooks/elks/dlr/{message.callback_token}/")
    assert sent["flashsms"] == "yes"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", 'Invalid "whendelivered": must be an http(s) URL'),
        ("https://127.0.0.1/dlr", 'Invalid "whendelivered": The URL\'s host resolves to'),
        ("http://93.184.216.34/dlr", 'Invalid "whendelivered": Use an https:// URL.'),
        ("https://93.184.216.34:6379/", 'Invalid "whendelivered": Port 6379 is not allowed'),
    ],
)
def test_a_whendelivered_we_may_not_post_to_is_refused(live_tenant, number, elks, url, reason):
    response = _send(live_tenant, number, whendelivered=url)
    assert response.status_code == 400
    assert text(response).startswith(reason)
    assert not Message.objects.exists()


def test_dontlog_blanks_the_text_once_sent(live_tenant, number, elks):
    response = _send(live_tenant, number, dontlog="message", message="Your code is 1234")
    assert response.status_code == 200, text(response)
    assert response.json()["message"] == "Your code is 1234"
    message = Message.objects.get()
    assert message.dontlog and message.body == "Your code is 1234"  # kept until it is sent
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.body, message.body_blanked, message.status) == ("", True, "created")
    assert elks.api_requests(method="POST", path="/a1/sms")[0]["params"]["dontlog"] == "message"
    got = tenant_key(live_tenant).client().get(f"/a1/sms/{message_public_id(message)}").json()
    assert "message" not in got


def test_dontlog_keeps_the_text_when_the_send_fails(live_tenant, number, elks):
    elks.set_chaos(rate=1, mode="429", paths=["sms"], methods=["POST"])
    _send(live_tenant, number, dontlog="message", message="Code 9")
    message = Message.objects.get()
    message_send(message_id=message.pk)
    elks.clear_chaos()
    message.refresh_from_db()
    assert message.status == "failed" and message.body == "Code 9"


def test_a_dry_run_checks_everything_and_stores_and_sends_nothing(live_tenant, number, elks):
    response = _send(live_tenant, number, dryrun="yes", message="x" * 161)
    assert response.status_code == 200, text(response)
    body = response.json()
    assert set(body) == {
        "status",
        "direction",
        "from",
        "to",
        "message",
        "parts",
        "estimated_cost",
        "created",
    }
    assert body["parts"] == 2 and body["estimated_cost"] > 0
    assert not Message.objects.exists() and not elks.api_requests(path="/a1/sms")
    account = BillingAccount.objects.get(pk=live_tenant.pk)
    assert account.reserved == 0  # the spend check was rolled back


def test_a_dry_run_is_refused_as_a_send_would_be(live_tenant, number, elks):
    optout_record(tenant=live_tenant, phone=CUSTOMER, kind="out", word="STOP")
    response = _send(live_tenant, number, dryrun="yes")
    assert response.status_code == 400
    assert text(response) == f"These recipients opted out and cannot be messaged: {CUSTOMER}"
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=1)
    response = _send(live_tenant, number, dryrun="yes", to="+46700000002")
    assert response.status_code == 403 and "monthly spending limit" in text(response)


@pytest.mark.parametrize(
    ("data", "status", "answer"),
    [
        ({"to": CUSTOMER, "message": "Hi"}, 400, 'Missing key "from"'),
        ({"from": "{n}", "message": "Hi"}, 400, 'Missing key "to"'),
        ({"from": "{n}", "to": CUSTOMER}, 400, 'Missing key "message"'),
        ({"from": "{n}", "to": CUSTOMER, "message": "  "}, 400, 'Missing key "message"'),
        ({"from": "{n}", "to": CUSTOMER, "message": "Hi", "x": "1"}, 400, 'Unknown parameter "x"'),
        (
            {"from": "{n}", "to": "0700000001", "message": "Hi"},
            400,
            'Invalid "to": phone numbers must be in E.164 format (+46...)',
        ),
        (
            {"from": "+46709999999", "to": CUSTOMER, "message": "Hi"},
            400,
            'Invalid "from": not one of your active numbers',
        ),
        (
            {"from": "1abc", "to": CUSTOMER, "message": "Hi"},
            400,
            'Invalid "from": use one of your numbers in E.164 format, or 3-11 letters '
            "and digits not starting with a digit",
        ),
        (
            {"from": "{n}", "to": CUSTOMER, "message": "Hi", "flashsms": "true"},
            400,
            'Invalid "flashsms": must be "yes" or "no"',
        ),
        (
            {"from": "{n}", "to": CUSTOMER, "message": "Hi", "dryrun": "1"},
            400,
            'Invalid "dryrun": must be "yes" or "no"',
        ),
        (
            {"from": "{n}", "to": CUSTOMER, "message": "Hi", "dontlog": "yes"},
            400,
            'Invalid "dontlog": the only value is "message"',
        ),
    ],
)
def test_bad_requests_get_the_sandboxs_texts(live_tenant, number, elks, data, status, answer):
    data = {k: v.replace("{n}", number.number) for k, v in data.items()}
    response = post(tenant_key(live_tenant).client(), "/a1/sms", data)
    assert (response.status_code, text(response)) == (status, answer)
    assert response["Content-Type"].startswith("text/plain")
    assert not Message.objects.exists()


def test_bodies_46elks_does_not_take_are_refused(live_tenant, number, elks):
    client = tenant_key(live_tenant).client()
    as_json = client.post("/a1/sms", {"from": "x"}, content_type="application/json")
    assert (as_json.status_code, text(as_json)) == (
        400,
        "JSON is not accepted: send application/x-www-form-urlencoded",
    )
    query = client.post("/a1/sms?to=+46700000001", "", content_type="")
    assert text(query) == "Send parameters form-encoded in the request body"
    twice = client.post("/a1/sms", "to=1&to=2", content_type="application/x-www-form-urlencoded")
    assert text(twice) == 'Duplicate key "to"'
    assert client.delete("/a1/sms").status_code == 405
    assert text(client.put("/a1/sms/s1")) == "Method not allowed"


def test_a_key_without_send_is_refused(live_tenant, number, elks):
    response = post(
        tenant_key(live_tenant, ["read"]).client(),
        "/a1/sms",
        {"from": number.number, "to": CUSTOMER, "message": "Hi"},
    )
    assert response.status_code == 403 and "send" in text(response)


# --- the compose page's rules hold, with the same refusals -----------------------------------


def _compose(live_tenant, sender: str, to: str = CUSTOMER) -> str:
    client = Client()
    client.force_login(live_tenant.memberships.filter(role="owner").first().user)
    url = reverse("messaging:compose", kwargs={"tenant_slug": live_tenant.slug})
    response = client.post(
        url,
        {
            "kind": "sms",
            "sender": sender,
            "recipients": to,
            "message": "Hello",
            "request_key": str(uuid.uuid4()),
            "delivery_report": "on",
        },
    )
    assert response.status_code == 400
    return response.content.decode()


def test_opt_out_refuses_as_on_the_compose_page(live_tenant, number, elks):
    optout_record(tenant=live_tenant, phone=CUSTOMER, kind="out", word="STOP")
    response = _send(live_tenant, number)
    assert response.status_code == 400
    assert text(response) == f"These recipients opted out and cannot be messaged: {CUSTOMER}"
    assert text(response) in _compose(live_tenant, number.number)
    assert not Message.objects.exists() and _sms_posts(elks) == 0


def test_the_spending_limit_refuses_as_on_the_compose_page(live_tenant, number, elks):
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=1)
    response = _send(live_tenant, number)
    assert response.status_code == 403
    assert "monthly spending limit" in text(response)
    page = _compose(live_tenant, number.number)
    assert text(response).split(",")[0] in page
    assert not Message.objects.exists() and _sms_posts(elks) == 0


def test_only_approved_sender_names_send_as_on_the_compose_page(live_tenant, number, elks):
    client = tenant_key(live_tenant).client()
    refused = post(client, "/a1/sms", {"from": "Bank", "to": CUSTOMER, "message": "Hi"})
    assert refused.status_code == 400
    assert text(refused).startswith("“Bank” is not an approved sender name of this account.")
    approved_sender(live_tenant, "Shop")
    sent = post(client, "/a1/sms", {"from": "Shop", "to": CUSTOMER, "message": "Hi"})
    assert sent.status_code == 200, text(sent)
    assert sent.json()["from"] == "Shop"


def test_the_parts_limit_refuses_as_on_the_compose_page(live_tenant, number, elks):
    response = _send(live_tenant, number, message="é" * 2000)
    assert response.status_code == 400
    assert "SMS parts long; this account sends at most" in text(response)


# --- idempotency -------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_sends_once(live_tenant, number, elks):
    client = tenant_key(live_tenant).client()
    data = {"from": number.number, "to": CUSTOMER, "message": "Once"}
    first = post(client, "/a1/sms", data, HTTP_IDEMPOTENCY_KEY="order-17")
    again = post(client, "/a1/sms", data, HTTP_IDEMPOTENCY_KEY="order-17")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    [message] = Message.objects.all()
    message_send(message_id=message.pk)
    outbox_sweep(older_than=timedelta(0))
    assert _sms_posts(elks) == 1
    with scopes_disabled():
        assert Message.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent requests need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_make_one_message_and_one_send(
    live_tenant, number, elks
):
    keyed = tenant_key(live_tenant)
    data = {"from": number.number, "to": CUSTOMER, "message": "Exactly once"}
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def retry() -> None:
        try:
            client = keyed.client()
            barrier.wait()
            response = post(client, "/a1/sms", data, HTTP_IDEMPOTENCY_KEY="batch-42")
            with lock:
                answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in answers)
    assert len(answers) == threads_n and set(statuses) <= {200, 409}, answers
    assert 200 in statuses
    ids = {json.loads(body)["id"] for status, body in answers if status == 200}
    assert len(ids) == 1
    with scopes_disabled():
        [message] = Message.objects.all()
    message_send(message_id=message.pk)
    outbox_sweep(older_than=timedelta(0))
    assert _sms_posts(elks) == 1
    # A later retry gets the first answer back.
    late = post(keyed.client(), "/a1/sms", data, HTTP_IDEMPOTENCY_KEY="batch-42")
    assert late.status_code == 200 and late.json()["id"] in ids

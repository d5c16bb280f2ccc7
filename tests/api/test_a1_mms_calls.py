"""POST /a1/mms and POST /a1/calls against the 46elks sandbox."""

from __future__ import annotations

import base64
import json

import pytest

from billing.models import BillingAccount
from calls.models import Call
from messaging.models import Message, MessageImage
from messaging.services import message_send
from providers.elks.sandbox.rules import tiny_png
from tests.api.a1_helpers import CUSTOMER, post, tenant_key, text

AGENT = "+46700000005"


@pytest.fixture
def number(rented_number):
    return rented_number


def _mms(live_tenant, number, **data: str):
    return post(
        tenant_key(live_tenant).client(), "/a1/mms", {"from": number.number, "to": CUSTOMER} | data
    )


def test_an_mms_with_a_data_uri_image_is_stored_and_sent(
    live_tenant, number, elks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    response = _mms(live_tenant, number, message="Look", image=uri)
    assert response.status_code == 200, text(response)
    body = response.json()
    assert body["id"].startswith("m") and body["images"] == [f"{body['id']}-i0"]
    assert body["cost"] > 0 and body["message"] == "Look"
    message = Message.objects.get()
    assert (message.kind, message.source) == ("mms", "api")
    image = MessageImage.objects.get()
    assert image.content_type == "image/png" and image.file.read() == tiny_png()
    message_send(message_id=message.pk)
    sent = elks.api_requests(method="POST", path="/a1/mms")[0]["params"]
    assert sent["image"].endswith(f"/media/mms/{image.public_token}/")


def test_an_mms_image_url_is_handed_to_46elks(live_tenant, number, elks):
    response = _mms(live_tenant, number, image="https://cdn.example.com/a.png")
    assert response.status_code == 200, text(response)
    message = Message.objects.get()
    message_send(message_id=message.pk)
    sent = elks.api_requests(method="POST", path="/a1/mms")[0]["params"]
    assert sent["image"] == "https://cdn.example.com/a.png"


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ({}, 'Missing key "message"'),
        ({"message": "x", "flashsms": "yes"}, 'Unknown parameter "flashsms"'),
        ({"image": "ftp://x/y.png"}, 'Invalid "image": must be an http(s) URL'),
        ({"image": "data:image/png;base64,!!"}, 'Invalid "image": not valid base64'),
        (
            {"image": "data:text/plain;base64," + base64.b64encode(b"hello").decode()},
            'Invalid "image": only JPEG, PNG and GIF images can be sent',
        ),
        (
            {"message": "x", "from": "Shop"},
            "A sender name can send SMS only: choose an MMS-capable number.",
        ),
    ],
)
def test_bad_mms_requests(live_tenant, number, elks, data, answer):
    response = _mms(live_tenant, number, **data)
    assert (response.status_code, text(response)) == (400, answer)
    assert not Message.objects.exists()


def _call(live_tenant, number, **data: str):
    values = {"from": number.number, "to": AGENT, "voice_start": json.dumps({"connect": CUSTOMER})}
    return post(tenant_key(live_tenant).client(), "/a1/calls", values | data)


def test_a_call_rings_to_then_connects_voice_starts_number(live_tenant, number, elks):
    response = _call(live_tenant, number, timeout="45")
    assert response.status_code == 200, text(response)
    body = response.json()
    call = Call.objects.get()
    assert body["id"].startswith("c") and body["state"] == "ongoing"
    assert (body["from"], body["to"]) == (number.number, AGENT)
    assert (call.other, call.agent_phone, call.placed_by) == (CUSTOMER, AGENT, None)
    assert call.reserved > 0  # reserved as the click-to-call page does
    sent = elks.api_requests(method="POST", path="/a1/calls")[0]["params"]
    assert sent["to"] == AGENT and json.loads(sent["voice_start"])["connect"] == CUSTOMER
    assert sent["timeout"] == "45"
    listed = tenant_key(live_tenant).client().get("/a1/calls").json()["data"]
    assert [row["id"] for row in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (
            {"voice_start": "https://erp.example.com/voice"},
            'Invalid "voice_start": only an inline {"connect": "+46..."} action is supported '
            "here, not a URL",
        ),
        ({"voice_start": "{nope"}, 'Invalid "voice_start": not valid JSON'),
        (
            {"voice_start": '{"play": "https://x/y.mp3"}'},
            'Invalid "voice_start": only {"connect": "+46..."} is supported here',
        ),
        (
            {"whenhangup": "https://x/h"},
            'Unsupported parameter "whenhangup": see the console\'s call log',
        ),
        ({"timeout": "0"}, 'Invalid "timeout": seconds between 1 and 120'),
        ({"to": "0700"}, 'Invalid "to": phone numbers must be in E.164 format (+46...)'),
        ({"from": "+46709999999"}, 'Invalid "from": not one of your active numbers'),
        ({"voice_start": ""}, 'Missing key "voice_start"'),
    ],
)
def test_bad_call_requests(live_tenant, number, elks, data, answer):
    response = _call(live_tenant, number, **data)
    assert (response.status_code, text(response)) == (400, answer)
    assert not Call.objects.exists() and not elks.api_requests(path="/a1/calls")


def test_a_call_over_the_spending_limit_is_403(live_tenant, number, elks):
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=1)
    response = _call(live_tenant, number)
    assert response.status_code == 403 and "monthly spending limit" in text(response)
    assert not elks.api_requests(path="/a1/calls")


def test_calls_need_the_calls_scope(live_tenant, number, elks):
    keyed = tenant_key(live_tenant, ["send", "read"])
    response = post(keyed.client(), "/a1/calls", {"from": number.number})
    assert response.status_code == 403 and "calls" in text(response)

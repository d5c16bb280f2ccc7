"""/api/v1/messages: sending (through the compose page's rules), the log and one message."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import User
from api.models import Scope
from billing.models import BillingAccount
from messaging.models import Message, MessageImage
from messaging.services import message_send, optout_record
from numbers.models import PhoneNumber
from tests.api.conftest import Keyed, make_key
from tests.conftest import World, client_for
from tests.factories import approved_sender

OURS = "+46766861475"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _number(tenant: Any, number: str = OURS) -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant,
            number=number,
            country="se",
            has_sms=True,
            has_mms=True,
            has_voice=True,
            status="active",
        )


def _message(tenant: Any, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "kind": "sms",
        "direction": "out",
        "status": "delivered",
        "ours": OURS,
        "other": "+46700000001",
        "body": "Hej",
        **fields,
    }
    with scopes_disabled():
        return Message.objects.create(tenant=tenant, **values)


def _send(keyed: Keyed, payload: dict[str, Any], **headers: str) -> Any:
    return keyed.client().post(
        "/api/v1/messages", json.dumps(payload), content_type="application/json", **headers
    )


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


# --- sending ----------------------------------------------------------------------------------


def test_a_send_is_queued_at_the_tenants_price_and_a_retry_sends_nothing_more(
    world: World, live_tenant: Any, rented_number: PhoneNumber, elks: Any
) -> None:
    keyed = make_key(live_tenant)
    payload = {"from": rented_number.number, "to": "+46700000001", "body": "Your taxi is here"}
    first = _send(keyed, payload, HTTP_IDEMPOTENCY_KEY="order-17")
    assert first.status_code == 202, first.content
    [sent] = first.json()["messages"]
    assert (sent["kind"], sent["status"], sent["source"]) == ("sms", "queued", "api")
    assert (sent["from"], sent["to"]) == (rented_number.number, "+46700000001")
    assert sent["reserved"] > 0 and "cost" not in sent
    again = _send(keyed, payload, HTTP_IDEMPOTENCY_KEY="order-17")
    assert again.status_code == 202
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    with scopes_disabled():
        assert Message.objects.filter(source="api").count() == 1
    message_send(message_id=sent["id"])
    message_send(message_id=sent["id"])
    assert len(elks.api_requests(method="POST", path="/a1/sms")) == 1
    shown = keyed.client().get(f"/api/v1/messages/{sent['id']}").json()
    assert shown["status"] == "created" and shown["timeline"]["queued"]
    assert shown["price"] is not None and "cost" not in shown


def test_same_key_sent_again_without_the_claim_still_sends_once(world: World) -> None:
    """Even if the stored answer were gone, the send's request key comes from the
    Idempotency-Key, so the retry finds the first message instead of queueing another."""
    _number(world.tenant_a)
    keyed = make_key(world.tenant_a)
    payload = {"from": OURS, "to": ["+46700000001", "+46700000002"], "body": "Hej"}
    first = _send(keyed, payload, HTTP_IDEMPOTENCY_KEY="k1")
    from api.models import IdempotentRequest

    IdempotentRequest.objects.all().delete()
    second = _send(keyed, payload, HTTP_IDEMPOTENCY_KEY="k1")
    assert second.status_code == 202
    ids = sorted(m["id"] for m in first.json()["messages"])
    assert sorted(m["id"] for m in second.json()["messages"]) == ids
    with scopes_disabled():
        assert Message.objects.count() == 2


def test_an_mms_carries_its_image(world: World) -> None:
    _number(world.tenant_a)
    image = "data:image/gif;base64," + base64.b64encode(GIF).decode()
    response = _send(make_key(world.tenant_a), {"from": OURS, "to": "+46700000001", "image": image})
    assert response.status_code == 202, response.content
    [sent] = response.json()["messages"]
    assert sent["kind"] == "mms"
    with scopes_disabled():
        stored = MessageImage.objects.get(message_id=sent["id"])
    assert (stored.content_type, stored.size) == ("image/gif", len(GIF))


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("https://example.com/a.gif", "data: URI"),
        ("data:image/gif;base64,!!!", "not valid"),
        ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "JPEG, PNG"),
    ],
)
def test_a_bad_image_is_refused(world: World, image: str, reason: str) -> None:
    _number(world.tenant_a)
    response = _send(make_key(world.tenant_a), {"from": OURS, "to": "+46700000001", "image": image})
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    with scopes_disabled():
        assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        ({"to": "+46700000001", "body": "x"}, 422, "from"),
        ({"from": OURS, "to": "12", "body": "x"}, 400, "Not valid phone numbers: 12"),
        ({"from": OURS, "to": "+46700000001", "body": " "}, 400, "Write a message."),
        ({"from": OURS, "to": "+46700000001", "body": "x" * 1000}, 400, "parts"),
        ({"from": "+46700000009", "to": "+46700000001", "body": "x"}, 400, "neither one of"),
        ({"from": OURS, "to": "+46700000001", "body": "a\x00b"}, 422, "NUL"),
    ],
)
def test_bad_sends_are_4xx_with_a_reason_and_write_nothing(
    world: World, payload: dict[str, Any], status: int, reason: str
) -> None:
    _number(world.tenant_a)
    response = _send(make_key(world.tenant_a), payload)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    with scopes_disabled():
        assert not Message.objects.exists()


def _web_refusal(world: World, **fields: str) -> str:
    data = {"kind": "sms", "request_key": str(uuid.uuid4()), **fields}
    page = client_for(world.owner_a).post("/t/acme/messages/new/", data)
    assert page.status_code == 400
    return page.content.decode()


def test_an_opted_out_recipient_is_refused_as_on_the_compose_page(world: World) -> None:
    _number(world.tenant_a)
    with scope(tenant=world.tenant_a.pk):
        optout_record(tenant=world.tenant_a, phone="+46700000002", kind="out", word="STOP")
    response = _send(
        make_key(world.tenant_a),
        {"from": OURS, "to": "+46700000001,+46700000002", "body": "Offer!"},
    )
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail == "These recipients opted out and cannot be messaged: +46700000002"
    web = _web_refusal(
        world, sender=OURS, recipients="+46700000001, +46700000002", message="Offer!"
    )
    assert detail in web
    with scopes_disabled():
        assert not Message.objects.exists()


def test_the_spend_limit_refuses_as_on_the_compose_page(world: World) -> None:
    _number(world.tenant_a)
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(monthly_limit=1)
    response = _send(make_key(world.tenant_a), {"from": OURS, "to": "+46700000001", "body": "Hej"})
    assert response.status_code == 402
    detail = response.json()["detail"]
    assert "over your monthly spending limit" in detail
    web = _web_refusal(world, sender=OURS, recipients="+46700000001", message="Hej")
    assert detail in web
    with scopes_disabled():
        assert not Message.objects.exists()
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).reserved == 0


def test_only_approved_sender_names_send(world: World) -> None:
    keyed = make_key(world.tenant_a)
    refused = _send(keyed, {"from": "AcmeTaxi", "to": "+46700000001", "body": "Hej"})
    assert refused.status_code == 403
    assert "“AcmeTaxi” is not an approved sender name of this account" in refused.json()["detail"]
    # The compose page offers only approved names: the same name is refused there too.
    assert "Send from one of your numbers or approved sender names" in _web_refusal(
        world, sender="AcmeTaxi", recipients="+46700000001", message="Hej"
    )
    approved_sender(world.tenant_a, "AcmeTaxi")
    accepted = _send(keyed, {"from": "AcmeTaxi", "to": "+46700000001", "body": "Hej"})
    assert accepted.status_code == 202
    assert accepted.json()["messages"][0]["from"] == "AcmeTaxi"
    # A mistake in the request from an approved name is a 400, not a refusal by rule.
    empty = _send(keyed, {"from": "AcmeTaxi", "to": "+46700000001", "body": ""})
    assert (empty.status_code, empty.json()["detail"]) == (400, "Write a message.")


def test_sending_needs_the_send_scope(world: World) -> None:
    _number(world.tenant_a)
    reader = make_key(world.tenant_a, scopes=[Scope.READ])
    response = _send(reader, {"from": OURS, "to": "+46700000001", "body": "Hej"})
    assert response.status_code == 403
    assert "“send”" in response.json()["detail"]
    sender = make_key(world.tenant_a, scopes=[Scope.SEND])
    assert sender.client().get("/api/v1/messages").status_code == 403


# --- the log ----------------------------------------------------------------------------------


def test_the_log_pages_with_a_cursor_across_every_row(world: World) -> None:
    now = timezone.now()
    made = [_message(world.tenant_a, created=now - timedelta(minutes=i)) for i in range(7)]
    _message(world.tenant_b)
    client = make_key(world.tenant_a).client()
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        body = client.get("/api/v1/messages", {"limit": 3, "cursor": cursor}).json()
        seen += [m["id"] for m in body["items"]]
        pages += 1
        if not body["next"]:
            break
        cursor = body["next"]
    assert pages == 3
    assert seen == [m.pk for m in made]  # newest first, each once, none of tenant B's


def test_a_bad_cursor_is_a_400_not_the_first_page(world: World) -> None:
    _message(world.tenant_a)
    client = make_key(world.tenant_a).client()
    for cursor in ("nonsense", base64.urlsafe_b64encode(b"2026-01-01T00:00:00|1").decode()):
        response = client.get("/api/v1/messages", {"cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json()["detail"]
    assert client.get("/api/v1/messages", {"limit": 101}).status_code == 422


def test_the_log_filters(world: World) -> None:
    now = timezone.now()
    out = _message(world.tenant_a, other="+46700000001", created=now - timedelta(hours=2))
    failed = _message(world.tenant_a, status="failed", other="+46700000002")
    inbound = _message(
        world.tenant_a, direction="in", status="received", other="+46700000001", kind="mms"
    )
    other_number = _message(world.tenant_a, ours="+46766860000", other="+46700000003")
    client = make_key(world.tenant_a).client()

    def ids(**query: str) -> set[int]:
        response = client.get("/api/v1/messages", query)
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()["items"]}

    assert ids(direction="in") == {inbound.pk}
    assert ids(status="failed") == {failed.pk}
    assert ids(kind="mms") == {inbound.pk}
    assert ids(number="+46766860000") == {other_number.pk}
    assert ids(**{"from": "+46700000001"}) == {inbound.pk}
    assert ids(to="+46700000001") == {out.pk}
    assert ids(until=(now - timedelta(hours=1)).isoformat()) == {out.pk}
    assert out.pk not in ids(since=(now - timedelta(hours=1)).isoformat())
    assert client.get("/api/v1/messages", {"status": "lost"}).status_code == 422


def test_one_message_with_its_timeline_and_no_provider_cost(world: World) -> None:
    sent_at = timezone.now()
    message = _message(
        world.tenant_a,
        status="failed",
        sent_at=sent_at,
        failed_at=sent_at,
        error="Unreachable",
        cost=3500,
        price=4500,
    )
    response = make_key(world.tenant_a).client().get(f"/api/v1/messages/{message.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["timeline"]["error"] == "Unreachable"
    assert body["timeline"]["sent"] and body["timeline"]["failed"]
    assert body["timeline"]["delivered"] is None
    assert body["price"] == 4500
    assert "3500" not in response.content.decode()


def test_another_tenants_message_is_404(world: World) -> None:
    theirs = _message(world.tenant_b)
    client = make_key(world.tenant_a).client()
    response = client.get(f"/api/v1/messages/{theirs.pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/messages/99999999999999999999").status_code == 422


def test_a_member_owned_key_reaches_the_api_as_the_tenant(world: World) -> None:
    """A key acts for its tenant, never for a user: no session is needed or used."""
    keyed = make_key(world.tenant_a)
    client = Client(HTTP_AUTHORIZATION=keyed.auth)
    client.force_login(User.objects.get(pk=world.owner_b.pk))  # a session of another tenant
    _message(world.tenant_a)
    response = client.get("/api/v1/messages")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1

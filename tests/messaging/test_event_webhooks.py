"""Event webhooks and whendelivered reports: emitted once per change through the real callback
path (store, drain), signed, retried, given up, re-sent, isolated, SSRF-safe.

The receiver is a real HTTP server on 127.0.0.1; `CUSTOMER_WEBHOOK_ALLOW_PRIVATE` lets the
send-time address check pass for it, and the SSRF tests turn it off again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent
from calls.models import Call, Recording
from calls.recordings import recording_download
from messaging.customer_webhooks import endpoints as ev
from messaging.customer_webhooks import services as cw
from messaging.customer_webhooks.models import EventDelivery, WebhookEndpoint
from messaging.models import Message, OptOut
from messaging.public_ids import message_public_id
from messaging.services import message_send, optout_record, sms_queue
from numbers.models import PhoneNumber
from providers.models import WebhookEvent
from providers.services import webhook_process, webhooks_drain, webhooks_process_batch
from tests.conftest import World, client_for
from tests.webhook_receiver import Received, Receiver

Status = EventDelivery.Status
ALL = [e for e in ev.EVENTS]


def _drain() -> None:
    with scopes_disabled():
        webhooks_drain()


def _deliveries(**filters: object) -> list[EventDelivery]:
    with scopes_disabled():
        return list(EventDelivery.objects.filter(**filters).order_by("pk"))


def _verifies(secret: str, received: Received) -> bool:
    """The documented check (docs/webhooks.md): HMAC-SHA256 of `<timestamp>.` + raw body."""
    timestamp = received.headers[cw.TIMESTAMP_HEADER]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    values = [
        v.strip().removeprefix("v1=") for v in received.headers[cw.SIGNATURE_HEADER].split(",")
    ]
    return any(hmac.compare_digest(expected, v) for v in values)


@pytest.fixture
def hooked(live_tenant, rented_number, receiver: Receiver, world: World):
    """The live tenant with a signing secret and an endpoint subscribed to every event."""
    secret = cw.secret_rotate(tenant=live_tenant, actor=world.staff)
    endpoint = ev.endpoint_add(
        tenant=live_tenant, url=receiver.url(), events=ALL, actor=None, description="all"
    )
    return endpoint, secret


def _queue(tenant, number: PhoneNumber, world: World, **extra: object) -> Message:
    [message] = sms_queue(
        tenant=tenant,
        sender=number.number,
        recipients=["+46700000001"],
        body="Hi",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
    if extra:
        Message.objects.filter(pk=message.pk).update(**extra)
        message.refresh_from_db()
    return message


def _report(message: Message, status: str, **extra: str):
    payload = {"id": message.elks_id or "", "status": status, **extra}
    return Client().post(f"/hooks/elks/dlr/{message.callback_token}/", payload)


# --- emitted once per change ----------------------------------------------------------------


def test_an_accepted_send_emits_message_sent_once_with_the_price_only(
    hooked, live_tenant, rented_number, world
) -> None:
    message = _queue(live_tenant, rented_number, world)
    message_send(message_id=message.pk)
    message_send(message_id=message.pk)  # a retried task: the claim refuses it
    [sent] = _deliveries(event="message.sent")
    message.refresh_from_db()
    assert sent.key == f"message.sent:{message_public_id(message)}"
    data = sent.payload["data"]
    assert data["id"] == message_public_id(message) and data["status"] == "created"
    assert data["price"] == message.price and data["price"] is not None
    text = json.dumps(sent.payload)
    assert "cost" not in text and message.callback_token not in text
    assert message.elks_id not in text  # 46elks' own id stays ours


def test_delivery_reports_emit_once_and_a_replay_emits_nothing(
    hooked, live_tenant, rented_number, world
) -> None:
    message = _queue(live_tenant, rented_number, world)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    for _ in range(3):
        assert _report(message, "delivered", delivered="2026-11-25T10:00:05.5").status_code == 200
    _drain()
    # Processing the stored event again (a crash, a staff retry) changes nothing.
    with scopes_disabled():
        event = WebhookEvent.objects.get(kind="dlr")
        WebhookEvent.objects.filter(pk=event.pk).update(status="pending")
    webhook_process(event.pk)
    _drain()
    [delivered] = _deliveries(event="message.delivered")
    assert delivered.payload["data"]["status"] == "delivered"
    assert delivered.payload["data"]["delivered"] == "2026-11-25T10:00:05+00:00"
    # A late `sent` report moves nothing: no event either.
    _report(message, "sent")
    _drain()
    assert [d.event for d in _deliveries()] == ["message.sent", "message.delivered"]


def test_a_failed_report_emits_message_failed(hooked, live_tenant, rented_number, world) -> None:
    message = _queue(live_tenant, rented_number, world)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    _report(message, "failed")
    _drain()
    [failed] = _deliveries(event="message.failed")
    assert failed.payload["data"]["status"] == "failed"


def test_a_send_that_fails_before_46elks_emits_message_failed(
    hooked, live_tenant, rented_number, world
) -> None:
    message = _queue(live_tenant, rented_number, world)
    optout_record(tenant=live_tenant, phone="+46700000001", kind=OptOut.Kind.OUT)
    message_send(message_id=message.pk)
    [failed] = _deliveries(event="message.failed")
    assert "opted out" in failed.payload["data"]["error"]
    assert _deliveries(event="message.sent") == []


def test_hangup_emits_call_completed_once(hooked, live_tenant, rented_number) -> None:
    hangup = {
        "id": "c1",
        "direction": "incoming",
        "from": "+46700000001",
        "to": rented_number.number,
        "created": "2026-11-25T10:00:00",
        "state": "success",
        "start": "2026-11-25T10:00:02",
        "duration": "15",
        "cost": "1500",
    }
    for _ in range(2):
        Client().post(f"/hooks/elks/{rented_number.hook_token}/hangup/", hangup)
    _drain()
    call = Call.objects.get()
    [completed] = _deliveries(event="call.completed")
    data = completed.payload["data"]
    assert data["id"] == call.pk and data["duration"] == 15 and data["state"] == "success"
    assert data["price"] == call.price and "cost" not in json.dumps(completed.payload)


def test_voicemail_and_recording_ready_are_emitted_once(
    hooked, live_tenant, rented_number, elks, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    payload = {
        "callid": "c2",
        "created": "2026-11-25T10:00:00",
        "duration": "5",
        "wav": f"{elks.base_url}/recordings/c2-r0.wav",
        "from": "+46700000001",
        "to": rented_number.number,
    }
    for _ in range(2):
        Client().post(f"/hooks/elks/{rented_number.hook_token}/voicemail/", payload)
    _drain()
    recording = Recording.objects.get()
    [voicemail] = _deliveries(event="voicemail.received")
    assert voicemail.payload["data"]["id"] == recording.pk
    assert voicemail.payload["data"]["duration"] == 5
    elks.store.insert(
        "recordings",
        {
            "id": recording.elks_id,
            "callid": "c2",
            "owner": live_tenant.elks_subaccount_id,
            "created": elks.store.now(),
            "duration": 5,
            "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
        },
    )
    assert recording_download(recording_id=recording.pk)
    assert recording_download(recording_id=recording.pk)  # already here: nothing again
    [ready] = _deliveries(event="recording.ready")
    assert ready.payload["data"]["size"] > 0


def _post_sms(number: PhoneNumber, elks_id: str, body: str):
    payload = {
        "id": elks_id,
        "from": "+46700000002",
        "to": number.number,
        "message": body,
        "direction": "incoming",
        "created": "2026-11-25T10:00:00.000000",
    }
    return Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload)


def test_optout_changed_only_when_the_state_changes(hooked, rented_number) -> None:
    for elks_id, body in [("i1", "STOP"), ("i1", "STOP"), ("i2", "STOP"), ("i3", "START")]:
        _post_sms(rented_number, elks_id, body)
        _drain()
    changes = _deliveries(event="optout.changed")
    assert [d.payload["data"]["opted_out"] for d in changes] == [True, False]
    assert changes[0].payload["data"]["phone"] == "+46700000002"
    assert changes[0].payload["data"]["word"] == "STOP"


def test_paused_and_unsubscribed_endpoints_get_nothing(
    hooked, live_tenant, rented_number, receiver, world
) -> None:
    endpoint, _ = hooked
    other = ev.endpoint_add(
        tenant=live_tenant, url=receiver.url("/calls"), events=["call.completed"], actor=None
    )
    ev.endpoint_change(endpoint=endpoint, active=False, actor=None)
    message = _queue(live_tenant, rented_number, world)
    message_send(message_id=message.pk)
    assert _deliveries() == []
    assert other.pk  # subscribed to calls only


# --- the batch path emits as the one-by-one path ------------------------------------------


def _stored_reports(number: PhoneNumber, messages: list[Message]) -> None:
    with scopes_disabled():
        for i, message in enumerate(messages):
            for status in ("sent", "delivered") if i % 2 else ("failed",):
                payload = {"id": message.elks_id or "", "status": status}
                payload["_token"] = message.callback_token
                if status == "delivered":
                    payload["delivered"] = "2026-11-25T10:00:05"
                WebhookEvent.objects.create(
                    provider="elks",
                    kind="dlr",
                    dedupe_key=f"{message.pk}:{status}",
                    tenant_id=number.tenant_id,
                    number_id=number.pk,
                    payload=payload,
                    received=timezone.now(),
                )


def _outbound(number: PhoneNumber, n: int, **extra: object) -> Message:
    return Message.objects.create(
        tenant_id=number.tenant_id,
        kind="sms",
        direction="out",
        status="created",
        source="api",
        number=number,
        ours=number.number,
        other=f"+4670111000{n}",
        body=f"Out {n}",
        elks_id=f"out-{n}",
        **extra,
    )


@pytest.mark.parametrize("batch", [True, False])
def test_batch_reports_emit_as_one_by_one(hooked, rented_number, receiver, batch) -> None:
    messages = [
        _outbound(rented_number, n, whendelivered=receiver.url("/dlr") if n < 2 else "")
        for n in range(4)
    ]
    _stored_reports(rented_number, messages)
    with scopes_disabled():
        if batch:
            webhooks_process_batch(size=50)
        else:
            for pk in WebhookEvent.objects.order_by("pk").values_list("pk", flat=True):
                webhook_process(pk)
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    got = sorted((d.event, d.key) for d in _deliveries())
    ids = [message_public_id(m) for m in messages]
    assert got == sorted(
        [
            ("message.failed", f"message.failed:{ids[0]}"),
            ("message.delivered", f"message.delivered:{ids[1]}"),
            ("message.failed", f"message.failed:{ids[2]}"),
            ("message.delivered", f"message.delivered:{ids[3]}"),
            ("whendelivered", f"whendelivered:{ids[0]}:failed"),
            ("whendelivered", f"whendelivered:{ids[1]}:sent"),
            ("whendelivered", f"whendelivered:{ids[1]}:delivered"),
        ]
    )


# --- whendelivered ----------------------------------------------------------------------


def test_whendelivered_gets_46elks_report_shape_signed(
    hooked, live_tenant, rented_number, receiver, world
) -> None:
    _, secret = hooked
    message = _queue(live_tenant, rented_number, world, whendelivered=receiver.url("/dlr"))
    message_send(message_id=message.pk)
    message.refresh_from_db()
    _report(message, "delivered", delivered="2026-11-25T10:00:05.123456")
    _report(message, "delivered", delivered="2026-11-25T10:00:05.123456")  # a replay
    _drain()
    [report] = _deliveries(event="whendelivered")
    assert ev.event_deliveries_send_due() >= 1
    [posted] = [r for r in receiver.requests if r.path == "/dlr"]
    assert posted.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(posted.body.decode()) == {
        "id": [message_public_id(message)],
        "status": ["delivered"],
        "delivered": ["2026-11-25T10:00:05.123456"],
    }
    assert _verifies(secret, posted)
    report.refresh_from_db()
    assert report.status == Status.DELIVERED


def test_whendelivered_goes_unsigned_without_a_secret_as_at_46elks(
    live_tenant, rented_number, receiver, world
) -> None:
    """Code written for 46elks gets its report although the tenant never made a secret;
    event endpoints still get nothing unsigned (the test below)."""
    message = _queue(live_tenant, rented_number, world, whendelivered=receiver.url("/dlr"))
    message_send(message_id=message.pk)
    message.refresh_from_db()
    _report(message, "failed")
    _drain()
    ev.event_deliveries_send_due()
    [posted] = [r for r in receiver.requests if r.path == "/dlr"]
    assert cw.SIGNATURE_HEADER not in posted.headers
    assert parse_qs(posted.body.decode())["status"] == ["failed"]
    [report] = _deliveries(event="whendelivered")
    assert report.status == Status.DELIVERED


# --- posting: signing, retries, give-up, re-send ------------------------------------------


def test_events_are_never_posted_unsigned(live_tenant, receiver) -> None:
    endpoint = ev.endpoint_add(
        tenant=live_tenant, url=receiver.url(), events=ALL, actor=None, description="no secret"
    )
    delivery = _one_event(endpoint)
    ev.event_deliveries_send_due()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.last_error == cw.NO_SECRET


def _one_event(endpoint: WebhookEndpoint) -> EventDelivery:
    with scope(tenant=endpoint.tenant_id):
        ev.events_emit(
            tenant_id=endpoint.tenant_id,
            event="optout.changed",
            key="optout.changed:test",
            payload={"phone": "+46700000009", "opted_out": True},
        )
    [delivery] = _deliveries(endpoint=endpoint)
    return delivery


def test_events_are_posted_as_signed_json(hooked, receiver) -> None:
    endpoint, secret = hooked
    delivery = _one_event(endpoint)
    assert ev.event_deliveries_send_due() == 1
    [posted] = receiver.requests
    assert posted.headers["Content-Type"] == "application/json"
    assert _verifies(secret, posted)
    body = json.loads(posted.body)
    assert body["event"] == "optout.changed" and body["key"] == "optout.changed:test"
    assert body["data"] == {"phone": "+46700000009", "opted_out": True}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        1,
        200,
    )
    assert ev.event_deliveries_send_due() == 0  # delivered: never again


def test_a_500_backs_off_then_gives_up_after_the_window(hooked, receiver) -> None:
    endpoint, _ = hooked
    receiver.answers = [500] * 10
    delivery = _one_event(endpoint)
    now = timezone.now()
    ev.event_deliveries_send_due(now=now)
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.last_status_code == 500
    first_wait = delivery.next_attempt - now
    assert timedelta(seconds=20) < first_wait < timedelta(seconds=40)
    assert ev.event_deliveries_send_due(now=now + timedelta(seconds=5)) == 0  # not due yet
    later = now + timedelta(minutes=5)
    ev.event_deliveries_send_due(now=later)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt - later > first_wait
    ev.event_deliveries_send_due(now=now + timedelta(hours=24, seconds=1))
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 3
    assert ev.event_deliveries_send_due(now=now + timedelta(hours=30)) == 0


def test_a_changed_or_paused_endpoint_stops_its_pending_deliveries(hooked, receiver) -> None:
    endpoint, _ = hooked
    delivery = _one_event(endpoint)
    with scope(tenant=endpoint.tenant_id):
        ev.endpoint_change(endpoint=endpoint, url=receiver.url("/new"), actor=None)
    ev.event_deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "no longer posts" in delivery.last_error
    assert receiver.requests == []


def test_resend_from_the_log_page(hooked, receiver, live_tenant, world, settings) -> None:
    endpoint, _ = hooked
    receiver.answers = [500]
    delivery = _one_event(endpoint)
    EventDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED)
    owner = client_for(live_tenant.memberships.get(role="owner").user)
    base = f"/t/{live_tenant.slug}/messages/webhooks"
    response = owner.post(f"{base}/events/{delivery.pk}/resend/", follow=True)
    assert response.status_code == 200
    assert "without success" in response.content.decode()
    # Back in its retries: a second click sends nothing.
    response = owner.post(f"{base}/events/{delivery.pk}/resend/", follow=True)
    assert "still being retried" in response.content.decode()
    assert len(receiver.requests) == 1
    EventDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED)
    response = owner.post(f"{base}/events/{delivery.pk}/resend/", follow=True)
    assert "your endpoint answered 2xx" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and len(receiver.requests) == 2
    page = owner.get(f"{base}/endpoints/{endpoint.pk}/?status=delivered&event=optout.changed")
    assert f"event-delivery-{delivery.pk}" in page.content.decode()
    page = owner.get(f"{base}/endpoints/{endpoint.pk}/?event=call.completed")
    assert f"event-delivery-{delivery.pk}" not in page.content.decode()


# --- pages, audit, isolation, SSRF --------------------------------------------------------


def test_owner_adds_tests_edits_pauses_and_deletes_an_endpoint(
    world: World, receiver: Receiver
) -> None:
    tenant = world.tenant_a
    cw.secret_rotate(tenant=tenant, actor=world.owner_a)
    owner = client_for(world.owner_a)
    base = f"/t/{tenant.slug}/messages/webhooks"
    response = owner.post(
        f"{base}/endpoints/add/",
        {"url": receiver.url(), "events": ["message.sent", "call.completed"], "description": "CRM"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(tenant=tenant)
    assert endpoint.events == ["message.sent", "call.completed"]
    assert endpoint.created_by == world.owner_a
    assert "CRM" in owner.get(f"{base}/").content.decode()
    response = owner.post(f"{base}/endpoints/{endpoint.pk}/test/", follow=True)
    assert "answered 2xx" in response.content.decode()
    assert json.loads(receiver.requests[0].body)["event"] == "webhook.test"
    owner.post(
        f"{base}/endpoints/{endpoint.pk}/edit/",
        {"url": receiver.url("/v2"), "events": ["optout.changed"], "description": "CRM"},
    )
    owner.post(f"{base}/endpoints/{endpoint.pk}/pause/")
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        receiver.url("/v2"),
        ["optout.changed"],
        False,
    )
    owner.post(f"{base}/endpoints/{endpoint.pk}/delete/")
    with scopes_disabled():
        assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
        assert not EventDelivery.objects.exists()
    actions = list(
        AuditEvent.objects.filter(tenant=tenant, action__startswith="webhook.endpoint")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditEvent.Action.WEBHOOK_ENDPOINT_ADDED,
        AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGED,
        AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGED,
        AuditEvent.Action.WEBHOOK_ENDPOINT_REMOVED,
    ]


def test_members_see_endpoints_but_cannot_change_them(world: World, receiver) -> None:
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.create(
            tenant=world.tenant_a, url=receiver.url(), events=ALL
        )
    member = client_for(world.member_a)
    base = f"/t/{world.tenant_a.slug}/messages/webhooks"
    assert member.get(f"{base}/endpoints/{endpoint.pk}/").status_code == 200
    assert member.post(f"{base}/endpoints/add/", {"url": receiver.url()}).status_code == 403
    assert member.post(f"{base}/endpoints/{endpoint.pk}/delete/").status_code == 403


def test_another_tenants_endpoint_and_delivery_are_404(world: World) -> None:
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.create(
            tenant=world.tenant_b, url="https://example.com/b", events=ALL
        )
        delivery = EventDelivery.objects.create(
            tenant=world.tenant_b,
            endpoint=endpoint,
            url=endpoint.url,
            event="webhook.test",
            key="webhook.test:b",
            status=Status.FAILED,
        )
    owner = client_for(world.owner_a)
    base = f"/t/{world.tenant_a.slug}/messages/webhooks"
    assert owner.get(f"{base}/endpoints/{endpoint.pk}/").status_code == 404
    assert owner.get(f"{base}/endpoints/{endpoint.pk}/edit/").status_code == 404
    for action in ("edit", "pause", "delete", "test"):
        assert owner.post(f"{base}/endpoints/{endpoint.pk}/{action}/").status_code == 404
    assert owner.post(f"{base}/events/{delivery.pk}/resend/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 0
    with scopes_disabled():
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", "Use an https:// URL."),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.5/hook", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://example.com:22/hook", "Port 22 is not allowed"),
    ],
)
def test_unsafe_urls_are_refused_by_the_form(world: World, settings, url, reason) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    owner = client_for(world.owner_a)
    response = owner.post(
        f"/t/{world.tenant_a.slug}/messages/webhooks/endpoints/add/",
        {"url": url, "events": ["message.sent"]},
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    with scopes_disabled():
        assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_at_send_time(hooked, receiver, settings) -> None:
    endpoint, _ = hooked
    delivery = _one_event(endpoint)
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    settings.CUSTOMER_WEBHOOK_ALLOWED_PORTS = [443, receiver.port]
    ev.event_deliveries_send_due()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and "Use an https:// URL." in delivery.last_error

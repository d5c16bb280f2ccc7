"""Sending, delivery reports, history sync and retention against the 46elks sandbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import Message, MessageImage, MessagingSettings
from messaging.services import SendError, message_send, sms_queue
from messaging.sync import history_sync, mms_images_fetch, outbox_sweep, retention_apply
from messaging.text import sms_size
from providers.clients import elks_for_tenant
from providers.models import WebhookEvent
from providers.services import webhooks_drain
from tests.factories import approved_sender


@pytest.fixture
def number(rented_number):
    return rented_number


def _queue(tenant, number, world, key=None, to=("+46700000001",), body="Hello"):
    return sms_queue(
        tenant=tenant,
        sender=number.number,
        recipients=list(to),
        body=body,
        request_key=key or uuid.uuid4(),
        actor=world.owner_a,
    )


def _sms_posts(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/sms"))


def test_a_send_happens_once_however_often_it_is_retried(world, live_tenant, number, elks) -> None:
    key = uuid.uuid4()
    [message] = _queue(live_tenant, number, world, key)
    assert message.status == "queued"
    assert _queue(live_tenant, number, world, key)[0].pk == message.pk  # double click
    message_send(message_id=message.pk)
    message_send(message_id=message.pk)  # a retried task
    outbox_sweep(older_than=timedelta(0))  # and the sweeper
    message.refresh_from_db()
    assert message.status == "created" and message.elks_id.startswith("s")
    assert message.cost == 3500
    assert _sms_posts(elks) == 1
    request = elks.api_requests(method="POST", path="/a1/sms")[0]
    assert request["params"]["whendelivered"].endswith(f"/hooks/elks/dlr/{message.callback_token}/")


def test_delivery_reports_move_forward_only(world, live_tenant, number, elks, settings) -> None:
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    url = f"/hooks/elks/dlr/{message.callback_token}/"
    delivered = {"id": message.elks_id, "status": "delivered", "delivered": "2026-11-25T10:00:05Z"}
    sent = {"id": message.elks_id, "status": "sent"}
    client = Client()
    # Out of order and repeated: delivered arrives first, then sent twice, then delivered again.
    for payload in (delivered, sent, sent, delivered):
        assert client.post(url, payload).status_code == 200
    assert WebhookEvent.objects.filter(kind="dlr").count() == 2  # one per (id, status)
    with scopes_disabled():
        webhooks_drain()
    message.refresh_from_db()
    assert message.status == "delivered"
    assert message.delivered_at.isoformat().startswith("2026-11-25T10:00:05")
    assert message.sent_at is not None
    assert client.post("/hooks/elks/dlr/wrong-token/", sent).status_code == 404


def test_a_report_from_the_sandbox_itself(world, live_tenant, number, elks, settings) -> None:
    """The sandbox posts reports to whendelivered for real: sent, then delivered."""
    settings.PUBLIC_BASE_URL = "http://testserver"
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    message.refresh_from_db()
    elks.wait_for_deliveries(2, kind="delivery", timeout=5)
    elks.wait_idle()
    statuses = [r["data"]["status"] for r in elks.deliveries(kind="delivery", ref=message.elks_id)]
    assert list(dict.fromkeys(statuses)) == ["sent", "delivered"]
    assert all(r["url"].endswith(f"/dlr/{message.callback_token}/") for r in elks.deliveries())


def test_timeout_goes_to_unknown_and_history_reconciles(
    world, live_tenant, number, elks, settings
) -> None:
    settings.ELKS_TIMEOUT = 0.5
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=1.2, paths=["sms"], methods=["POST"])
    [message] = _queue(live_tenant, number, world, body="Maybe sent")
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "unknown" and message.elks_id is None
    elks.clear_chaos()
    outbox_sweep(older_than=timedelta(0))  # unknown is never resent
    assert _sms_posts(elks) == 1
    history_sync(tenant=live_tenant)
    message.refresh_from_db()
    assert message.status != "unknown" and message.elks_id
    assert Message.objects.filter(body="Maybe sent").count() == 1


def test_history_sync_imports_messages_sent_elsewhere_incrementally(
    world, live_tenant, number, elks
) -> None:
    elks.configure(page_size=2)
    client = elks_for_tenant(live_tenant)
    for n in range(5):
        client.sms_send(from_=number.number, to=f"+4670000010{n}", message=f"outside {n}")
    elks.wait_idle()  # let the sandbox finish its delivery steps
    assert history_sync(tenant=live_tenant) == (5, 0)
    assert history_sync(tenant=live_tenant) == (0, 0)
    outside = Message.objects.filter(source="history")
    assert outside.count() == 5 and all(m.cost == 3500 for m in outside)
    assert MessagingSettings.objects.get().history_synced_until is not None
    pages = elks.api_requests(method="GET", path="/a1/sms")
    assert len(pages) >= 3


def test_sender_and_recipient_validation(world, live_tenant, number, elks) -> None:
    with pytest.raises(SendError, match="neither one of your active numbers"):
        sms_queue(
            tenant=live_tenant,
            sender="1abc",
            recipients=["+46700000001"],
            body="x",
            request_key=uuid.uuid4(),
            actor=None,
        )
    with pytest.raises(SendError, match="not an approved sender name"):
        sms_queue(
            tenant=live_tenant,
            sender="Taxi",
            recipients=["+46700000001"],
            body="x",
            request_key=uuid.uuid4(),
            actor=None,
        )
    approved_sender(live_tenant, "Taxi")
    [msg] = sms_queue(
        tenant=live_tenant,
        sender="Taxi",
        recipients=["+46700000001"],
        body="x",
        request_key=uuid.uuid4(),
        actor=None,
    )
    assert msg.ours == "Taxi" and msg.number is None
    with pytest.raises(SendError, match="Write a message"):
        _queue(live_tenant, number, world, body="  ")


def test_sms_size() -> None:
    assert sms_size("a" * 160).parts == 1 and sms_size("a" * 161).parts == 2
    assert sms_size("ä" * 160).encoding == "GSM-7"
    assert sms_size("€" * 80).units == 160 and sms_size("€" * 81).parts == 2
    emoji = sms_size("😀" * 35)
    assert emoji.encoding == "UCS-2" and emoji.units == 70 and emoji.parts == 1
    assert sms_size("😀" * 36).parts == 2


def test_retention_blanks_old_bodies_and_keeps_costs(world, live_tenant, number) -> None:
    old = Message.objects.create(
        tenant=live_tenant,
        direction="in",
        status="received",
        ours=number.number,
        other="+46700000001",
        body="secret",
        cost=3500,
        created=timezone.now() - timedelta(days=40),
    )
    new = Message.objects.create(
        tenant=live_tenant,
        direction="in",
        status="received",
        ours=number.number,
        other="+46700000001",
        body="recent",
    )
    assert retention_apply() == 0  # off by default
    MessagingSettings.objects.update_or_create(tenant=live_tenant, defaults={"retention_days": 30})
    assert retention_apply() == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.body, old.body_blanked, old.cost) == ("", True, 3500)
    assert new.body == "recent"


def test_dontlog_keeps_text_out_of_46elks_logs(world, live_tenant, number, elks) -> None:
    MessagingSettings.objects.update_or_create(tenant=live_tenant, defaults={"dontlog": True})
    [message] = _queue(live_tenant, number, world)
    message_send(message_id=message.pk)
    assert elks.api_requests(method="POST", path="/a1/sms")[0]["params"]["dontlog"] == "message"


def test_inbound_mms_image_is_fetched_from_46elks_only(
    world, live_tenant, number, elks, settings
) -> None:
    settings.PUBLIC_BASE_URL = "http://testserver"
    elks.inbound_mms(to=number.number, from_="+46700000001", message="Look")
    delivery = elks.wait_for_deliveries(1, kind="mms", timeout=5)[0]
    payload = delivery["data"]
    Client().post(f"/hooks/elks/{number.hook_token}/mms/", payload)
    with scopes_disabled():
        webhooks_drain()
        message = Message.objects.get(kind="mms")
        image = MessageImage.objects.get()
    with scope(tenant=live_tenant.pk):
        assert mms_images_fetch(message_id=message.pk) == 1
    image.refresh_from_db()
    assert image.content_type in ("image/png", "image/jpeg", "image/gif") and image.size > 0
    # A URL without a 46elks image id is never fetched; 46elks' own list of the MMS's images
    # has no second one, so that image is given up (the first one was fetched by its id).
    with scopes_disabled():
        evil = MessageImage.objects.create(
            tenant=live_tenant, message=message, source_url="http://169.254.169.254/latest"
        )
    with scope(tenant=live_tenant.pk):
        mms_images_fetch(message_id=message.pk)
    evil.refresh_from_db()
    assert "no such image" in evil.error and not evil.file


def test_delivery_report_can_be_turned_off(world, live_tenant, number, elks) -> None:
    [message] = sms_queue(
        tenant=live_tenant,
        sender=number.number,
        recipients=["+46700000001"],
        body="No report please",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
        delivery_report=False,
    )
    message_send(message_id=message.pk)
    params = elks.api_requests(method="POST", path="/a1/sms")[0]["params"]
    assert "whendelivered" not in params

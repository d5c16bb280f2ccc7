"""Inbound webhooks end to end: store once, process once, never lose one."""

from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import Conversation, Message, MessagingSettings, OptOut
from messaging.services import SendError, message_send, sms_queue
from numbers.models import PhoneNumber
from numbers.services import number_route
from providers.models import WebhookEvent
from providers.services import webhook_process, webhooks_drain


@pytest.fixture
def number(rented_number):
    return rented_number


def _post_sms(number: PhoneNumber, **fields: str):
    payload = {
        "id": "s0a1b2c3",
        "from": "+46700000001",
        "to": number.number,
        "message": "Hej!",
        "direction": "incoming",
        "created": "2026-11-25T10:00:00.123456",
        **fields,
    }
    return Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload)


def _drain() -> int:
    with scopes_disabled():
        return webhooks_drain()


def test_five_replays_and_two_runs_make_one_message(number, live_tenant) -> None:
    for _ in range(5):
        assert _post_sms(number).status_code == 200
    assert WebhookEvent.objects.count() == 1
    event = WebhookEvent.objects.get()
    assert _drain() == 1
    # Processing the same event again (e.g. after a crash) changes nothing.
    WebhookEvent.objects.filter(pk=event.pk).update(status="pending")
    _drain()
    message = Message.objects.get()
    assert (message.direction, message.status, message.body) == ("in", "received", "Hej!")
    assert message.created.isoformat().startswith("2026-11-25T10:00:00.123456")
    conversation = Conversation.objects.get()
    assert conversation.unread == 1 and conversation.other == "+46700000001"


def test_a_malformed_payload_fails_with_a_reason_and_writes_nothing(number) -> None:
    assert _post_sms(number, **{"from": ""}).status_code == 200
    _drain()
    event = WebhookEvent.objects.get()
    assert event.status == "failed" and 'missing field "from"' in event.error
    assert Message.objects.count() == 0


@pytest.mark.parametrize("created", ["yesterday", "2026-13-45 10:00:00", "2026-11-25T25:61"])
def test_a_malformed_created_keeps_the_message_at_the_time_received(number, created) -> None:
    assert _post_sms(number, id="s2", created=created).status_code == 200
    event = WebhookEvent.objects.get(dedupe_key="s2")
    _drain()
    event.refresh_from_db()
    assert (event.status, event.error) == ("processed", "")
    with scopes_disabled():
        message = Message.objects.get(elks_id="s2")
        assert message.created == event.received
        assert Conversation.objects.get().last_message_at == event.received
    assert event.payload["created"] == created  # the original text is kept in the raw event


def test_a_malformed_delivered_time_still_applies_the_report(number, live_tenant, world) -> None:
    with scope(tenant=live_tenant.pk):
        [sent] = sms_queue(
            tenant=live_tenant,
            sender=number.number,
            recipients=["+46700000001"],
            body="Hi",
            request_key=uuid.uuid4(),
            actor=world.owner_a,
        )
    payload = {"id": "s77", "status": "delivered", "delivered": "soon"}
    assert Client().post(f"/hooks/elks/dlr/{sent.callback_token}/", payload).status_code == 200
    _drain()
    event = WebhookEvent.objects.get(kind="dlr")
    sent.refresh_from_db()
    assert (event.status, sent.status) == ("processed", "delivered")
    assert sent.delivered_at == event.received


def test_broker_down_still_stores_and_answers_then_the_replay_processes(number, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with mock.patch(
        "providers.tasks.webhooks_drain.apply_async", side_effect=ConnectionError("broker down")
    ):
        assert _post_sms(number).status_code == 200
    assert WebhookEvent.objects.get().status == "pending"
    WebhookEvent.objects.update(received=timezone.now() - timedelta(minutes=2))
    call_command("webhooks_replay")
    assert Message.objects.count() == 1
    assert WebhookEvent.objects.get().status == "processed"


def test_replay_leaves_fresh_events_to_the_worker(number) -> None:
    _post_sms(number)
    call_command("webhooks_replay")  # only events older than a minute
    assert WebhookEvent.objects.get().status == "pending"


def test_wake_publishes_at_most_once_per_window(number, django_capture_on_commit_callbacks) -> None:
    with (
        mock.patch("providers.tasks.webhooks_drain.apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for n in range(5):
            _post_sms(number, id=f"s{n}")
    assert publish.call_count == 1


def test_stop_and_start_words_fill_the_ledger(number, live_tenant, world) -> None:
    _post_sms(number, id="s1", message=" stop ")
    _drain()
    with scope(tenant=live_tenant.pk):
        entry = OptOut.objects.get()
        assert (entry.phone, entry.kind, entry.word) == ("+46700000001", "out", "STOP")
        with pytest.raises(SendError, match="opted out"):
            sms_queue(
                tenant=live_tenant,
                sender=number.number,
                recipients=["+46700000001"],
                body="Offer!",
                request_key=uuid.uuid4(),
                actor=world.owner_a,
            )
    _post_sms(number, id="s2", message="START")
    _drain()
    with scope(tenant=live_tenant.pk):
        assert OptOut.objects.filter(kind="in").count() == 1
        MessagingSettings.objects.filter(tenant=live_tenant).update(stop_words="SLUTA")
    _post_sms(number, id="s3", message="sluta")
    _drain()
    with scope(tenant=live_tenant.pk):
        assert OptOut.objects.first().word == "SLUTA"


def test_forward_to_a_phone_sends_once_and_never_loops(number, live_tenant, world, elks) -> None:
    with scope(tenant=live_tenant.pk):
        number_route(number=number, actor=world.owner_a, sms_forward_to="+46709999999")
    _post_sms(number, id="s1")
    _drain()
    with scope(tenant=live_tenant.pk):
        forward = Message.objects.get(source="forward")
        assert forward.other == "+46709999999" and "From +46700000001: Hej!" in forward.body
        message_send(message_id=forward.pk)
        forward.refresh_from_db()
        assert forward.status == "created" and forward.elks_id
    # Reprocessing does not forward again.
    WebhookEvent.objects.update(status="pending")
    _drain()
    with scope(tenant=live_tenant.pk):
        assert Message.objects.filter(source="forward").count() == 1
    # A message from another platform number is not forwarded (no ping-pong).
    with scopes_disabled():
        PhoneNumber.objects.create(
            tenant=live_tenant,
            provider_id="n-other",
            number="+46700000077",
            country="se",
            has_sms=True,
            status="active",
        )
    _post_sms(number, id="s9", **{"from": "+46700000077"})
    _drain()
    with scope(tenant=live_tenant.pk):
        assert Message.objects.filter(source="forward").count() == 1


def test_quarantined_number_stores_but_does_not_route(number, live_tenant, world) -> None:
    with scope(tenant=live_tenant.pk):
        number_route(number=number, actor=world.owner_a, sms_forward_to="+46709999999")
    PhoneNumber.objects.filter(pk=number.pk).update(status="quarantined")
    _post_sms(number)
    _drain()
    with scope(tenant=live_tenant.pk):
        assert Message.objects.filter(direction="in").count() == 1
        assert not Message.objects.filter(source="forward").exists()


def test_allow_list_rejects_other_sources(number, settings) -> None:
    settings.WEBHOOK_ALLOWED_IPS = ["176.10.154.199", "2001:9b0:2:902::199"]
    assert _post_sms(number).status_code == 403
    assert WebhookEvent.objects.count() == 0
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    ok = Client(REMOTE_ADDR="127.0.0.1").post(
        f"/hooks/elks/{number.hook_token}/sms/",
        {"id": "s1", "from": "+46700000001", "to": number.number, "message": "x"},
        HTTP_X_FORWARDED_FOR="176.10.154.199",
    )
    assert ok.status_code == 200
    spoofed = Client(REMOTE_ADDR="10.0.0.9").post(
        f"/hooks/elks/{number.hook_token}/sms/", {"id": "s2"}, HTTP_X_FORWARDED_FOR="176.10.154.199"
    )
    assert spoofed.status_code == 403


def test_failed_event_can_be_retried_by_staff(number, world) -> None:
    _post_sms(number, message="x", **{"from": ""})
    _drain()
    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    WebhookEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "from": "+4670000"})
    staff = Client()
    staff.force_login(world.staff)
    page = staff.get("/staff/webhooks/").content.decode()
    assert "missing field" in page
    assert "Failed (1)" in page and "Pending (0)" in page  # counts, zero included
    assert staff.post(f"/staff/webhooks/{event.pk}/retry/").status_code == 302
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 2


def test_processing_one_event_is_locked_against_a_second_worker(number) -> None:
    _post_sms(number)
    event = WebhookEvent.objects.get()
    webhook_process(event.pk)
    webhook_process(event.pk)  # already processed: a no-op
    assert Message.objects.count() == 1

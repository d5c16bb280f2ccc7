"""Calls core against the sandbox: voice_start, hangup, recordings, retention, sync."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from calls.models import Call, CallSettings, Recording
from calls.recordings import recording_download, recordings_due, recordings_retention
from calls.services import CallError, click_to_call
from calls.sync import calls_sync
from numbers.services import number_rent, number_route
from providers.services import webhooks_drain
from tests.conftest import World


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def number(world: World, live_tenant, media):
    return number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["sms", "voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )


def _drain() -> None:
    with scopes_disabled():
        webhooks_drain()


def test_voice_start_records_the_call_once_and_hangup_completes_it(number) -> None:
    start = {
        "callid": "c1",
        "from": "+46700000001",
        "to": number.number,
        "direction": "incoming",
        "created": "2026-11-25T10:00:00.000000",
    }
    for _ in range(3):
        assert Client().post(f"/hooks/elks/{number.hook_token}/voice/", start).status_code == 200
    call = Call.objects.get()
    assert (call.elks_id, call.state, call.other) == ("c1", "ongoing", "+46700000001")
    hangup = {
        "id": "c1",
        "direction": "incoming",
        "from": "+46700000001",
        "to": number.number,
        "created": "2026-11-25T10:00:00",
        "state": "success",
        "start": "2026-11-25T10:00:02",
        "duration": "15",
        "cost": "1500",
        "actions": '[{"connect": "+46701111111", "result": "success"}]',
        "legs": json.dumps(
            [{"duration": 14, "from": "+46700000001", "state": "success", "to": "+46701111111"}]
        ),
    }
    for _ in range(2):
        Client().post(f"/hooks/elks/{number.hook_token}/hangup/", hangup)
    _drain()
    call.refresh_from_db()
    assert (call.state, call.duration, call.cost) == ("success", 15, 1500)
    assert call.legs[0]["to"] == "+46701111111" and call.actions[0]["result"] == "success"


def test_the_voice_start_answer_does_not_need_the_broker(
    number, world, live_tenant, settings
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with scope(tenant=live_tenant.pk):
        number_route(number=number, actor=world.owner_a, voicemail_enabled=True)
    answer = Client().post(f"/hooks/elks/{number.hook_token}/voice/", {"callid": "c9"})
    assert answer.status_code == 200 and "play" in answer.json()


def test_sandbox_call_to_voicemail_is_recorded_and_downloaded(
    number, world, live_tenant, elks, settings
) -> None:
    settings.PUBLIC_BASE_URL = "http://testserver"
    with scope(tenant=live_tenant.pk):
        number_route(number=number, actor=world.owner_a, voicemail_enabled=True)
    # Play the sandbox's callbacks into the test client (it cannot reach testserver itself).
    action = (
        Client()
        .post(
            f"/hooks/elks/{number.hook_token}/voice/",
            {"callid": "c2", "from": "+46700000001", "to": number.number},
        )
        .json()
    )
    record_url = action["next"]["record"]
    assert record_url.endswith("/voicemail/")
    wav = f"{elks.base_url}/recordings/c2-r0.wav"
    elks.store.insert(
        "recordings",
        {
            "id": "c2-r0",
            "callid": "c2",
            "owner": live_tenant.elks_subaccount_id,
            "created": elks.store.now(),
            "duration": 5,
            "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
        },
    )
    payload = {
        "callid": "c2",
        "created": "2026-11-25T10:00:00",
        "duration": "5",
        "wav": wav,
        "from": "+46700000001",
        "to": number.number,
    }
    for _ in range(2):
        Client().post(record_url.replace("http://testserver", ""), payload)
    _drain()
    with scope(tenant=live_tenant.pk):
        recording = Recording.objects.get()
        assert recording.kind == "voicemail" and recording.call.elks_id == "c2"
        assert recording_download(recording_id=recording.pk)
        recording.refresh_from_db()
        assert recording.file and recording.size > 0


def test_download_retries_with_backoff_then_alerts_staff(number, world, live_tenant, elks) -> None:
    with scope(tenant=live_tenant.pk):
        recording = Recording.objects.create(
            tenant=live_tenant,
            callid="c3",
            elks_id="c3-r0",
            wav_url=f"{elks.base_url}/recordings/c3-r0.wav",
        )
        assert not recording_download(recording_id=recording.pk)  # 404 at the sandbox
        recording.refresh_from_db()
        assert recording.attempts == 1 and recording.next_attempt > timezone.now()
        assert "404" in recording.last_error or recording.last_error
    # Not due yet: nothing tried.
    assert recordings_due() == 0
    Recording.objects.filter(pk=recording.pk).update(created=timezone.now() - timedelta(hours=25))
    recordings_due(now=timezone.now() + timedelta(hours=1))
    recording.refresh_from_db()
    assert recording.attempts == 2 and recording.alerted is not None
    assert "still missing" in mail.outbox[-1].subject
    recordings_due(now=timezone.now() + timedelta(hours=2))
    alerts = [m for m in mail.outbox if "still missing" in m.subject]
    assert len(alerts) == 1 and alerts[0].to == [world.staff.email]  # alerted once, to staff


def test_download_never_uses_the_callback_url(live_tenant, elks, media) -> None:
    """The stored ``wav`` URL is ignored: the file comes from the API base + the id."""
    elks.store.insert(
        "recordings",
        {
            "id": "c4-r0",
            "callid": "c4",
            "owner": live_tenant.elks_subaccount_id,
            "created": elks.store.now(),
            "duration": 2,
            "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
        },
    )
    with scope(tenant=live_tenant.pk):
        recording = Recording.objects.create(
            tenant=live_tenant,
            callid="c4",
            elks_id="c4-r0",
            wav_url="http://169.254.169.254/latest.wav",
        )
        assert recording_download(recording_id=recording.pk)
        recording.refresh_from_db()
        assert recording.file and recording.size > 0


def test_retention_deletes_old_audio_and_keeps_the_call(live_tenant, media) -> None:
    from django.core.files.base import ContentFile

    with scope(tenant=live_tenant.pk):
        call = Call.objects.create(tenant=live_tenant, direction="in", ours="+4676", other="+4670")
        old = Recording.objects.create(
            tenant=live_tenant,
            call=call,
            callid="c5",
            elks_id="c5-r0",
            created=timezone.now() - timedelta(days=91),
        )
        old.file.save("old.wav", ContentFile(b"RIFFxxxxWAVE"))
        fresh = Recording.objects.create(
            tenant=live_tenant, call=call, callid="c6", elks_id="c6-r0"
        )
        fresh.file.save("new.wav", ContentFile(b"RIFFxxxxWAVE"))
        CallSettings.objects.get_or_create(tenant=live_tenant)
    assert recordings_retention() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert not old.file and old.audio_deleted and fresh.file
    assert Call.objects.model._base_manager.filter(pk=call.pk).exists()


def test_click_to_call_rings_the_user_first_and_never_twice(
    number, world, live_tenant, elks
) -> None:
    user = world.owner_a
    key = uuid.uuid4()
    with scope(tenant=live_tenant.pk):
        with pytest.raises(CallError, match="your own phone"):
            click_to_call(
                tenant=live_tenant, user=user, number=number, to="0701234567", request_key=key
            )
        user.phone = "+46709876543"
        user.save()
        call = click_to_call(
            tenant=live_tenant, user=user, number=number, to="070-123 45 67", request_key=key
        )
        again = click_to_call(
            tenant=live_tenant, user=user, number=number, to="0701234567", request_key=key
        )
    assert again.pk == call.pk and call.elks_id and call.other == "+46701234567"
    [request] = elks.api_requests(method="POST", path="/a1/calls")
    assert request["params"]["to"] == "+46709876543" and request["params"]["from"] == number.number
    assert json.loads(request["params"]["voice_start"]) == {
        "connect": "+46701234567",
        "callerid": number.number,
    }


def test_sync_pulls_calls_and_recordings(number, world, live_tenant, elks) -> None:
    elks.configure(page_size=2)
    elks.inbound_call(to=number.number, from_="+46700000001")  # answers are refused: no server
    elks.wait_idle()
    with scope(tenant=live_tenant.pk):
        changed, _ = calls_sync(tenant=live_tenant)
        assert changed == 1
        call = Call.objects.get()
        assert call.direction == "in" and call.source == "history"
        assert calls_sync(tenant=live_tenant) == (0, 0)

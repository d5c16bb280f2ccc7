"""/api/v1/calls and /api/v1/recordings: the log, one call, click-to-call and the audio."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scopes_disabled

from api.models import Scope
from billing.models import BillingAccount
from calls.models import Call, Recording
from numbers.models import PhoneNumber
from tests.api.conftest import make_key
from tests.conftest import World, client_for

OURS = "+46766861475"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(16))


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def _call(tenant: Any, **fields: Any) -> Call:
    values: dict[str, Any] = {
        "direction": "in",
        "state": "success",
        "ours": OURS,
        "other": "+46700000001",
        **fields,
    }
    with scopes_disabled():
        return Call.objects.create(tenant=tenant, **values)


def _recording(tenant: Any, call: Call | None, *, audio: bool = True, **fields: Any) -> Recording:
    recording = Recording(tenant=tenant, call=call, callid="c", elks_id=uuid.uuid4().hex, **fields)
    if audio:
        recording.file.save("r.wav", ContentFile(WAV), save=False)
    with scopes_disabled():
        recording.save()
    return recording


def _dial(client: Any, body: dict[str, str], **headers: str) -> Any:
    return client.post(
        "/api/v1/calls", json.dumps(body), content_type="application/json", **headers
    )


def test_the_call_log_pages_and_filters(world: World) -> None:
    now = timezone.now()
    calls = [_call(world.tenant_a, created=now - timedelta(minutes=i)) for i in range(5)]
    busy = _call(world.tenant_a, state="busy", direction="out", created=now - timedelta(days=2))
    _call(world.tenant_b)
    client = make_key(world.tenant_a).client()
    first = client.get("/api/v1/calls", {"limit": 4}).json()
    second = client.get("/api/v1/calls", {"limit": 4, "cursor": first["next"]}).json()
    assert [c["id"] for c in first["items"] + second["items"]] == [
        *(c.pk for c in calls),
        busy.pk,
    ]
    assert second["next"] is None

    def ids(**query: str) -> list[int]:
        return [c["id"] for c in client.get("/api/v1/calls", query).json()["items"]]

    assert ids(state="busy") == [busy.pk]
    assert ids(direction="out") == [busy.pk]
    assert ids(until=(now - timedelta(days=1)).isoformat()) == [busy.pk]
    assert busy.pk not in ids(since=(now - timedelta(days=1)).isoformat())
    assert ids(number="+46766860000") == []
    assert client.get("/api/v1/calls", {"cursor": "x"}).status_code == 400


def test_one_call_with_its_recordings_and_no_provider_cost(world: World) -> None:
    call = _call(world.tenant_a, cost=98_765, price=12_000, duration=61)
    recording = _recording(world.tenant_a, call, kind="voicemail", duration=7)
    response = make_key(world.tenant_a).client().get(f"/api/v1/calls/{call.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["price"], body["duration"], body["recordings"]) == (12_000, 61, [recording.pk])
    assert (body["from"], body["to"]) == ("+46700000001", OURS)
    assert "98765" not in response.content.decode()


def test_click_to_call_through_the_sandbox_once_per_idempotency_key(
    world: World, live_tenant: Any, rented_number: PhoneNumber, elks: Any
) -> None:
    client = make_key(live_tenant).client()
    body = {"from": rented_number.number, "to": "070-111 22 33", "agent": "+46701234567"}
    first = _dial(client, body, HTTP_IDEMPOTENCY_KEY="call-1")
    assert first.status_code == 201, first.content
    again = _dial(client, body, HTTP_IDEMPOTENCY_KEY="call-1")
    assert again.content == first.content
    assert len(elks.api_requests(method="POST", path="/a1/calls")) == 1
    call = Call.objects.get()
    assert (call.source, call.other, call.agent_phone) == ("click", "+46701112233", "+46701234567")
    assert call.placed_by is None and call.elks_id
    assert first.json()["state"] == "ongoing"


def test_click_to_call_refusals(world: World, live_tenant: Any, rented_number: PhoneNumber) -> None:
    client = make_key(live_tenant).client()
    good = {"from": rented_number.number, "to": "+46701112233", "agent": "+46701234567"}
    assert _dial(client, {**good, "from": "+46700000000"}).status_code == 400
    assert "not a valid phone number" in _dial(client, {**good, "to": "12"}).json()["detail"]
    assert _dial(client, {"from": good["from"], "to": good["to"]}).status_code == 422
    caller = make_key(live_tenant, scopes=[Scope.READ]).client()
    assert _dial(caller, good).status_code == 403
    assert not Call.objects.exists()


def test_the_spend_limit_refuses_as_on_the_dial_page(
    world: World, live_tenant: Any, rented_number: PhoneNumber, elks: Any
) -> None:
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=1)
    response = _dial(
        make_key(live_tenant).client(),
        {"from": rented_number.number, "to": "+46701112233", "agent": "+46701234567"},
    )
    assert response.status_code == 402
    detail = response.json()["detail"]
    assert "spending limit" in detail
    owner = live_tenant.memberships.get().user
    owner.phone = "+46701234567"
    owner.save()
    page = client_for(owner).post(
        f"/t/{live_tenant.slug}/calls/dial/",
        {"number": rented_number.pk, "to": "+46701112233", "request_key": str(uuid.uuid4())},
    )
    assert detail in page.content.decode()
    assert not Call.objects.exists()
    assert not elks.api_requests(method="POST", path="/a1/calls")


def test_another_tenants_call_and_recording_are_404(world: World) -> None:
    call = _call(world.tenant_b)
    recording = _recording(world.tenant_b, call)
    client = make_key(world.tenant_a).client()
    assert client.get(f"/api/v1/calls/{call.pk}").status_code == 404
    assert client.get(f"/api/v1/recordings/{recording.pk}").status_code == 404
    assert client.get(f"/api/v1/recordings/{recording.pk}/audio").status_code == 404
    assert client.get("/api/v1/recordings").json()["items"] == []


# --- recordings -------------------------------------------------------------------------------


def test_recordings_list_get_and_download(world: World) -> None:
    call = _call(world.tenant_a)
    voicemail = _recording(world.tenant_a, call, kind="voicemail", duration=9)
    pending = _recording(world.tenant_a, None, audio=False, kind="call")
    client = make_key(world.tenant_a).client()
    listed = client.get("/api/v1/recordings").json()["items"]
    assert [r["id"] for r in listed] == [pending.pk, voicemail.pk]
    assert [
        r["id"] for r in client.get("/api/v1/recordings", {"kind": "voicemail"}).json()["items"]
    ] == [voicemail.pk]
    assert [
        r["id"] for r in client.get("/api/v1/recordings", {"call": call.pk}).json()["items"]
    ] == [voicemail.pk]
    one = client.get(f"/api/v1/recordings/{voicemail.pk}").json()
    assert (one["call"], one["available"], one["duration"]) == (call.pk, True, 9)

    audio = client.get(f"/api/v1/recordings/{voicemail.pk}/audio")
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/wav"
    assert b"".join(audio.streaming_content) == WAV
    part = client.get(f"/api/v1/recordings/{voicemail.pk}/audio", HTTP_RANGE="bytes=0-3")
    assert (part.status_code, part.content) == (206, b"RIFF")

    missing = client.get(f"/api/v1/recordings/{pending.pk}/audio")
    assert missing.status_code == 404
    assert "not downloaded" in missing.json()["detail"]


def test_recordings_need_the_read_scope(world: World) -> None:
    recording = _recording(world.tenant_a, None)
    client = make_key(world.tenant_a, scopes=[Scope.CALLS]).client()
    assert client.get(f"/api/v1/recordings/{recording.pk}/audio").status_code == 403
    assert client.get("/api/v1/calls").status_code == 403

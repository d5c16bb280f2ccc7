"""GET on /a1/: lists with 46elks' paging, items by public id, and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django_scopes import scope

from accounts.models import Tenant
from api.elks import ids
from api.elks.render import ts
from calls.models import Call, Recording
from messaging.models import Message, MessageImage
from messaging.public_ids import message_public_id
from numbers.models import PhoneNumber
from tests.api.a1_helpers import tenant_key, text
from tests.conftest import World

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
NOT_FOUND = (404, "Not found")


def _message(tenant: Tenant, created: datetime, **fields: object) -> Message:
    values: dict[str, object] = {
        "kind": Message.Kind.SMS,
        "direction": Message.Direction.OUT,
        "status": Message.Status.DELIVERED,
        "ours": "+46766861001",
        "other": "+46700000001",
        "body": "Hi",
        "parts": 1,
        "cost": 3500,
        "price": 4900,
        "created": created,
        "delivered_at": created + timedelta(seconds=3),
    } | fields
    with scope(tenant=tenant.pk):
        return Message.objects.create(tenant=tenant, **values)


def _walk(client, path: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    query = f"?limit={limit}"
    while True:
        response = client.get(path + query)
        assert response.status_code == 200, text(response)
        body = response.json()
        pages.append([row["id"] for row in body["data"]])
        if "next" not in body:
            return pages
        query = f"?limit={limit}&start={body['next']}"


def test_sms_pages_newest_first_without_overlap_or_gap_even_on_equal_times(world: World):
    same = T0 + timedelta(minutes=5)
    times = [T0, T0 + timedelta(minutes=1), same, same, same, T0 + timedelta(minutes=9), same]
    rows = [_message(world.tenant_a, t) for t in times]
    _message(world.tenant_b, same)  # another tenant's row is never listed
    client = tenant_key(world.tenant_a).client()
    pages = _walk(client, "/a1/sms", limit=2)
    listed = [i for page in pages for i in page]
    expected = [
        message_public_id(m) for m in sorted(rows, key=lambda m: (m.created, m.pk), reverse=True)
    ]
    assert listed == expected  # every row once, newest first
    # The first page ended on one of the four equal times: it was extended to hold all four.
    assert [len(p) for p in pages] == [5, 2]
    assert [len(p) for p in _walk(client, "/a1/sms", limit=1)] == [1, 4, 1, 1]


def test_start_and_end_are_exclusive_and_limit_is_checked(world: World):
    rows = [_message(world.tenant_a, T0 + timedelta(minutes=i)) for i in range(5)]
    client = tenant_key(world.tenant_a).client()
    start, end = ts(rows[3].created), ts(rows[0].created)
    body = client.get(f"/a1/sms?start={start}&end={end}").json()
    assert [r["id"] for r in body["data"]] == [message_public_id(rows[i]) for i in (2, 1)]
    assert "next" not in body
    zulu = client.get(f"/a1/sms?end={rows[3].created.isoformat().replace('+00:00', 'Z')}")
    assert [r["id"] for r in zulu.json()["data"]] == [message_public_id(rows[4])]
    for bad in ("0", "101", "ten"):
        answer = client.get(f"/a1/sms?limit={bad}")
        assert (answer.status_code, text(answer)) == (400, "limit must be between 1 and 100")
    wrong = client.get("/a1/sms?start=yesterday")
    assert (wrong.status_code, text(wrong)) == (400, 'Invalid "start" timestamp')
    unknown = client.get("/a1/sms?page=2")
    assert (unknown.status_code, text(unknown)) == (400, 'Unknown parameter "page"')


def test_an_sms_shows_the_tenants_price_and_46elks_formats(world: World):
    message = _message(world.tenant_a, T0, flash=True)
    inbound = _message(
        world.tenant_a,
        T0 + timedelta(seconds=1),
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        price=None,
        cost=None,
        delivered_at=None,
    )
    keyed = tenant_key(world.tenant_a)
    body = keyed.client().get(f"/a1/sms/{message_public_id(message)}").json()
    assert body == {
        "id": message_public_id(message),
        "status": "delivered",
        "direction": "outgoing",
        "from": "+46766861001",
        "to": "+46700000001",
        "message": "Hi",
        "created": "2026-03-01T12:00:00.123456",
        "delivered": "2026-03-01T12:00:03Z",
        "cost": 4900,
        "owner": keyed.key.key_id,
        "parts": 1,
        "flashsms": "yes",
    }
    got = keyed.client().get(f"/a1/sms/{message_public_id(inbound)}").json()
    assert (got["direction"], got["from"], got["to"]) == (
        "incoming",
        "+46700000001",
        "+46766861001",
    )
    assert "cost" not in got and "status" not in got
    listed = keyed.client().get("/a1/sms?to=+46766861001".replace("+", "%2B")).json()["data"]
    assert [r["id"] for r in listed] == [message_public_id(inbound)]


def test_mms_are_listed_apart_with_their_images(world: World, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sms = _message(world.tenant_a, T0)
    mms = _message(world.tenant_a, T0, kind=Message.Kind.MMS, parts=None, body="")
    with scope(tenant=world.tenant_a.pk):
        MessageImage.objects.create(tenant=world.tenant_a, message=mms)
    client = tenant_key(world.tenant_a).client()
    listed = client.get("/a1/mms").json()["data"]
    mms_id = message_public_id(mms)
    assert listed == [
        {
            "id": mms_id,
            "status": "delivered",
            "direction": "outgoing",
            "from": "+46766861001",
            "to": "+46700000001",
            "created": ts(T0),
            "delivered": "2026-03-01T12:00:03Z",
            "cost": 4900,
            "owner": listed[0]["owner"],
            "images": [f"{mms_id}-i0"],
        }
    ]
    assert client.get(f"/a1/mms/{mms_id}").status_code == 200
    # An SMS is not an MMS, by id or by kind letter.
    assert client.get(f"/a1/mms/{message_public_id(sms)}").status_code == 404
    assert client.get(f"/a1/sms/{mms_id}").status_code == 404


def _call(tenant: Tenant, created: datetime) -> Call:
    with scope(tenant=tenant.pk):
        return Call.objects.create(
            tenant=tenant,
            direction=Call.Direction.OUT,
            state=Call.State.SUCCESS,
            source=Call.Source.CLICK_TO_CALL,
            ours="+46766861001",
            other="+46700000009",
            agent_phone="+46700000005",
            created=created,
            start=created + timedelta(seconds=4),
            duration=61,
            cost=3000,
            price=4200,
            legs=[{"to": "+46700000009", "duration": 61}],
        )


def _number(tenant: Tenant, created: datetime, **fields: object) -> PhoneNumber:
    values: dict[str, object] = {
        "number": "+46766861001",
        "country": "se",
        "has_sms": True,
        "has_voice": True,
        "status": PhoneNumber.Status.ACTIVE,
        "created": created,
        "allocated_at": created,
        "expires": created + timedelta(days=30),
        "provider_id": "n-elks-internal",
    } | fields
    with scope(tenant=tenant.pk):
        return PhoneNumber.objects.create(tenant=tenant, **values)


def test_calls_show_the_tenants_price_as_a_string(world: World):
    call = _call(world.tenant_a, T0)
    client = tenant_key(world.tenant_a).client()
    body = client.get("/a1/calls").json()
    assert body["data"] == [
        {
            "id": ids.call_public_id(call.pk),
            "direction": "outgoing",
            "from": "+46766861001",
            "to": "+46700000005",
            "state": "success",
            "created": ts(T0),
            "start": ts(T0 + timedelta(seconds=4)),
            "duration": 61,
            "cost": "4200",
            "legs": [{"to": "+46700000009", "duration": 61}],
        }
    ]
    assert client.get(f"/a1/calls/{ids.call_public_id(call.pk)}").json() == body["data"][0]


def test_calls_never_show_our_call_plan_nor_46elks_leg_costs(world: World):
    """`actions` carry our callback URLs (their token is the key to our hooks), and 46elks'
    legs may carry its cost: neither reaches the tenant."""
    call = _call(world.tenant_a, T0)
    with scope(tenant=world.tenant_a.pk):
        Call.objects.filter(pk=call.pk).update(
            actions=[
                {"recordcall": "https://switchboard.example/hooks/elks/SECRETTOKEN/recording/"}
            ],
            legs=[{"to": "+46700000009", "duration": 61, "cost": 3000, "price": 3000}],
        )
    client = tenant_key(world.tenant_a).client()
    answer = client.get(f"/a1/calls/{ids.call_public_id(call.pk)}")
    text_ = answer.content.decode()
    assert "SECRETTOKEN" not in text_ and "3000" not in text_
    assert answer.json()["legs"] == [{"to": "+46700000009", "duration": 61}]
    assert "actions" not in answer.json()


def test_numbers_show_the_tenants_own_routing_never_our_callbacks(world: World):
    number = _number(world.tenant_a, T0, sms_webhook_url="https://erp.acme.example/sms")
    _number(world.tenant_a, T0, number="", status="pending", provider_id=None)
    client = tenant_key(world.tenant_a, ["numbers"]).client()
    body = client.get("/a1/numbers").json()
    assert body["data"] == [
        {
            "id": ids.number_public_id(number.pk),
            "number": "+46766861001",
            "country": "se",
            "category": "mobile",
            "capabilities": ["sms", "voice"],
            "active": "yes",
            "sms_url": "https://erp.acme.example/sms",
            "created": ts(T0),
            "allocated": ts(T0),
            "expires": "2026-03-31T12:00:00",
        }
    ]
    raw = text(client.get(f"/a1/numbers/{ids.number_public_id(number.pk)}"))
    assert number.hook_token not in raw and "/hooks/" not in raw
    assert tenant_key(world.tenant_a, ["read"]).client().get("/a1/numbers").status_code == 200
    refused = tenant_key(world.tenant_a, ["send"]).client().get("/a1/numbers")
    assert refused.status_code == 403


def test_recordings_and_their_wav(world: World, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with scope(tenant=world.tenant_a.pk):
        recording = Recording.objects.create(
            tenant=world.tenant_a, callid="c1", elks_id="c1-r0", duration=7, created=T0
        )
        recording.file.save("x.wav", ContentFile(b"RIFF0000WAVEfmt "))
        missing = Recording.objects.create(
            tenant=world.tenant_a, callid="c2", elks_id="c2-r0", duration=3, created=T0
        )
    client = tenant_key(world.tenant_a).client()
    rid = ids.recording_public_id(recording.pk)
    body = client.get("/a1/recordings").json()
    assert body["data"][0]["id"] in (rid, ids.recording_public_id(missing.pk))
    assert client.get(f"/a1/recordings/{rid}").json() == {
        "id": rid,
        "created": ts(T0),
        "duration": 7,
    }
    wav = client.get(f"/a1/recordings/{rid}.wav")
    assert wav.status_code == 200 and wav["Content-Type"] == "audio/wav"
    assert b"".join(wav.streaming_content).startswith(b"RIFF")
    gone = client.get(f"/a1/recordings/{ids.recording_public_id(missing.pk)}.wav")
    assert (gone.status_code, text(gone)) == NOT_FOUND


def test_me_has_the_sandbox_subaccount_shape(world: World):
    keyed = tenant_key(world.tenant_a)
    body = keyed.client().get("/a1/me").json()
    assert set(body) == {
        "id",
        "displayname",
        "email",
        "mobilenumber",
        "currency",
        "balance",
        "trialactivated",
        "balanceused",
        "usagelimit",
    }
    assert (body["id"], body["displayname"], body["email"]) == (
        keyed.key.key_id,
        "Acme",
        "owner@acme.example",
    )
    assert isinstance(body["balance"], int) and isinstance(body["balanceused"], int)
    assert keyed.client().post("/a1/me").status_code == 405


@pytest.mark.parametrize("kind", ["sms", "mms", "calls", "numbers", "recordings"])
def test_a_key_of_tenant_a_never_reaches_tenant_bs_rows(
    world: World, kind: str, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    theirs: str
    if kind in ("sms", "mms"):
        row = _message(world.tenant_b, T0, kind=kind)
        theirs = message_public_id(row)
    elif kind == "calls":
        theirs = ids.call_public_id(_call(world.tenant_b, T0).pk)
    elif kind == "numbers":
        theirs = ids.number_public_id(_number(world.tenant_b, T0).pk)
    else:
        with scope(tenant=world.tenant_b.pk):
            recording = Recording.objects.create(
                tenant=world.tenant_b, callid="cb", elks_id="cb-r0", duration=2
            )
            recording.file.save("b.wav", ContentFile(b"RIFF0000WAVE"))
        theirs = ids.recording_public_id(recording.pk)
    key_a, key_b = tenant_key(world.tenant_a).client(), tenant_key(world.tenant_b).client()
    assert key_b.get(f"/a1/{kind}/{theirs}").status_code == 200
    answer = key_a.get(f"/a1/{kind}/{theirs}")
    assert (answer.status_code, text(answer)) == NOT_FOUND
    assert key_a.get(f"/a1/{kind}").json()["data"] == []
    if kind == "recordings":
        wav = key_a.get(f"/a1/recordings/{theirs}.wav")
        assert (wav.status_code, text(wav)) == NOT_FOUND


@pytest.mark.parametrize("item", ["nope", "s" + "f" * 32, "s123", "c" + "0" * 31 + "1"])
def test_malformed_or_unknown_ids_are_404(world: World, item: str):
    answer = tenant_key(world.tenant_a).client().get(f"/a1/sms/{item}")
    assert (answer.status_code, text(answer)) == NOT_FOUND

"""Routing, quarantine, restore, release, closing a tenant, token rotation, sync."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from console.sync import provider_sync
from numbers.models import NumberEvent, NumberPolicy, PhoneNumber
from numbers.selectors import forget_hook_numbers
from numbers.services import (
    NumberError,
    number_reapply_routing,
    number_release,
    number_release_now,
    number_rent,
    number_restore,
    number_rotate_token,
    number_route,
    quarantine_expire,
    tenant_close,
)
from providers.clients import elks_for_tenant, elks_master
from providers.models import WebhookEvent
from tests.conftest import World


@pytest.fixture
def number(world: World, live_tenant) -> PhoneNumber:
    return number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["sms", "voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )


def test_routing_is_saved_and_sent_to_46elks(world, number, live_tenant) -> None:
    number_route(
        number=number,
        actor=world.owner_a,
        sms_forward_to="+46701234567",
        sms_autoreply_enabled=True,
        sms_autoreply_text="Thanks, we will call you back.",
        voice_forwards=[{"to": "+46701111111", "timeout": 15}],
        voicemail_enabled=True,
        label="Reception",
    )
    remote = elks_for_tenant(live_tenant).number_get(number.provider_id)
    assert remote.sms_replies is True
    assert remote.name == "Reception"
    assert remote.voice_start.endswith(f"/hooks/elks/{number.hook_token}/voice/")
    number.refresh_from_db()
    assert number.voice_forwards == [{"to": "+46701111111", "timeout": 15}]
    assert NumberEvent.objects.filter(number=number, action="routing_changed").exists()


def test_quarantine_restore_and_release_at_the_end(world, number, live_tenant, elks) -> None:
    policy = NumberPolicy.current()
    policy.quarantine_days = 3
    policy.save()
    number_release(number=number, actor=world.owner_a)
    assert number.status == "quarantined"
    assert number.quarantine_until - number.quarantined_at == timedelta(days=3)
    number_restore(number=number, actor=world.owner_a)
    assert number.status == "active"

    number_release(number=number, actor=world.owner_a)
    assert quarantine_expire(now=timezone.now() + timedelta(days=2)) == 0
    assert elks_for_tenant(live_tenant).number_get(number.provider_id).active
    assert quarantine_expire(now=timezone.now() + timedelta(days=3, minutes=1)) == 1
    number.refresh_from_db()
    assert number.status == "released" and number.released_at
    assert not elks_for_tenant(live_tenant).number_get(number.provider_id).active
    with pytest.raises(NumberError):
        number_restore(number=number, actor=world.owner_a)
    # History stays.
    actions = set(NumberEvent.objects.filter(number=number).values_list("action", flat=True))
    assert {"rented", "quarantined", "restored", "released"} <= actions


def test_provider_failure_keeps_the_number_in_quarantine(world, number, elks) -> None:
    number_release(number=number, actor=world.owner_a)
    elks.set_chaos(rate=1, mode="503", paths=["numbers"], methods=["POST"])
    assert quarantine_expire(now=timezone.now() + timedelta(days=30)) == 0
    number.refresh_from_db()
    assert number.status == "quarantined" and number.last_error
    elks.clear_chaos()
    assert quarantine_expire(now=timezone.now() + timedelta(days=30)) == 1


def test_staff_release_now_and_no_double_release(world, number, live_tenant) -> None:
    number_release_now(number=number, actor=world.staff)
    assert number.status == "released"
    with pytest.raises(NumberError, match="already released"):
        number_release_now(number=number, actor=world.staff)


def test_closing_a_tenant_releases_numbers_then_the_subaccount(world, number, live_tenant) -> None:
    second = number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
    number_release(number=second, actor=world.owner_a)
    tenant_close(tenant=live_tenant, actor=world.staff)
    live_tenant.refresh_from_db()
    assert live_tenant.status == Tenant.Status.CLOSED
    with scopes_disabled():
        assert set(PhoneNumber.objects.values_list("status", flat=True)) == {"released"}
    assert elks_master().subaccount_get(live_tenant.elks_subaccount_id).active is False
    # Staff still read its history.
    assert Client().get("/").status_code == 302
    staff = Client()
    staff.force_login(world.staff)
    assert staff.get(f"/staff/numbers/{number.pk}/").status_code == 200


def test_rotating_the_token_keeps_the_old_one_for_an_overlap(world, number, live_tenant) -> None:
    old = number.hook_token
    number_rotate_token(number=number, actor=world.owner_a)
    remote = elks_for_tenant(live_tenant).number_get(number.provider_id)
    assert number.hook_token in remote.sms_url and old not in remote.sms_url
    client = Client()
    assert (
        client.post(
            f"/hooks/elks/{old}/sms/",
            {"id": "s1", "from": "+4670", "to": number.number, "message": "hi"},
        ).status_code
        == 200
    )
    PhoneNumber.objects.filter(pk=number.pk).update(previous_hook_token_until=timezone.now())
    # Web processes keep a token's number for HOOK_NUMBER_CACHE_SECONDS; once that passes:
    forget_hook_numbers()
    assert client.post(f"/hooks/elks/{old}/sms/", {"id": "s2"}).status_code == 404


def test_sync_imports_releases_and_shows_drift(world, number, live_tenant, elks) -> None:
    client = elks_for_tenant(live_tenant)
    outside = client.number_allocate(country="se", capabilities=["sms"])  # rented elsewhere
    client.number_update(number.provider_id, sms_url="https://elsewhere.example/sms")
    result = provider_sync()
    assert "1 imported" in str(result) and "1 with drifted routing" in str(result)
    imported = PhoneNumber.objects.get(provider_id=outside.id)
    assert imported.status == "active" and imported.tenant == live_tenant
    number.refresh_from_db()
    assert number.provider_drift["sms_url"]["theirs"] == "https://elsewhere.example/sms"
    # The sync changed nothing at 46elks.
    assert client.number_get(number.provider_id).sms_url == "https://elsewhere.example/sms"

    number_reapply_routing(number=number, actor=world.owner_a)
    assert number.provider_drift is None
    assert number.hook_token in client.number_get(number.provider_id).sms_url

    client.number_deactivate(outside.id)
    provider_sync()
    imported.refresh_from_db()
    assert imported.status == "released"
    assert provider_sync().notes[-1].startswith("Numbers: 0 imported")


def test_unknown_token_is_404_and_stores_nothing(db) -> None:
    response = Client().post("/hooks/elks/not-a-token/sms/", {"id": "s1"})
    assert response.status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_inbound_sms_is_stored_once_however_often_it_is_replayed(number) -> None:
    payload = {"id": "s42", "from": "+46700000001", "to": number.number, "message": "hej"}
    for _ in range(5):
        assert Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.payload["message"] == "hej" and event.number_id == number.pk


def test_voice_start_answers_the_routing(world, number) -> None:
    number_route(
        number=number, actor=world.owner_a, voice_forwards=[{"to": "+46702222222", "timeout": 10}]
    )
    answer = Client().post(
        f"/hooks/elks/{number.hook_token}/voice/",
        {"callid": "c1", "from": "+4670", "to": number.number},
    )
    assert answer.status_code == 200
    assert answer.json()["connect"] == "+46702222222"
    number_release(number=number, actor=world.owner_a)
    answer = Client().post(f"/hooks/elks/{number.hook_token}/voice/", {"callid": "c2"})
    assert answer.json() == {"hangup": "busy"}

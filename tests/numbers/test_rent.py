"""Renting numbers against the 46elks sandbox over HTTP."""

from __future__ import annotations

import uuid

import pytest

from numbers.models import NumberEvent, PhoneNumber
from numbers.services import NumberError, number_rent
from providers.clients import elks_for_tenant
from tests.conftest import World


def _rent(tenant, world: World, key: uuid.UUID | None = None, **kw):
    args = {"country": "se", "capabilities": ["sms", "voice"], "category": "mobile"}
    args.update(kw)
    return number_rent(tenant=tenant, request_key=key or uuid.uuid4(), actor=world.owner_a, **args)


def _allocations(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/numbers"))


def test_rent_allocates_under_the_subaccount_with_our_callbacks(world, live_tenant, elks) -> None:
    number = _rent(live_tenant, world, capabilities=["sms", "mms", "voice"])
    assert number.status == "active" and number.number.startswith("+46")
    assert number.monthly_price == 250_000 and number.currency == "SEK"
    # Allocated with the tenant's own credentials, so only its subaccount sees it.
    request = elks.api_requests(method="POST", path="/a1/numbers")[0]
    assert request["user"] == live_tenant.elks_subaccount_id
    remote = elks_for_tenant(live_tenant).number_get(number.provider_id)
    token = number.hook_token
    assert remote.sms_url == f"https://switchboard.example.com/hooks/elks/{token}/sms/"
    assert remote.mms_url.endswith(f"/hooks/elks/{token}/mms/")
    assert remote.voice_start.endswith(f"/hooks/elks/{token}/voice/")
    assert NumberEvent.objects.filter(number=number, action="rented").exists()


def test_provider_refusal_saves_nothing(world, live_tenant, elks) -> None:
    elks.set_pool("se", [])
    with pytest.raises(NumberError, match="46elks could not rent a number"):
        _rent(live_tenant, world)
    assert PhoneNumber.objects.count() == 0


def test_double_submit_rents_once(world, live_tenant, elks) -> None:
    key = uuid.uuid4()
    first = _rent(live_tenant, world, key)
    second = _rent(live_tenant, world, key)
    assert first.pk == second.pk
    assert _allocations(elks) == 1
    assert PhoneNumber.objects.count() == 1


def test_timeout_then_retry_never_rents_twice(world, live_tenant, elks, settings) -> None:
    settings.ELKS_TIMEOUT = 0.5
    # 46elks performs the allocation but answers too late.
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=1.5, paths=["numbers"], methods=["POST"])
    key = uuid.uuid4()
    number = _rent(live_tenant, world, key)
    # The number was found at 46elks by the token in its callback URLs.
    assert number.status == "active" and number.provider_id
    elks.clear_chaos()
    again = _rent(live_tenant, world, key)
    assert again.pk == number.pk
    assert _allocations(elks) == 1
    assert len(list(elks_for_tenant(live_tenant).numbers())) == 1


def test_timeout_while_46elks_stays_unreachable_keeps_a_pending_claim(
    world, live_tenant, elks, settings
) -> None:
    settings.ELKS_TIMEOUT = 0.5
    # Every numbers call times out: the allocation and the look-up after it.
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=1.5, paths=["numbers"])
    key = uuid.uuid4()
    with pytest.raises(NumberError, match=r"(?i)do not rent again"):
        _rent(live_tenant, world, key)
    assert PhoneNumber.objects.get().status == "pending"
    elks.clear_chaos()
    # A retry of the same form checks again instead of renting again.
    again = _rent(live_tenant, world, key)
    assert again.status == "active"
    assert _allocations(elks) == 1


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"category": "fixed", "capabilities": ["sms", "voice"]}, "cannot receive SMS"),
        ({"country": "fi"}, "not offered yet"),
    ],
)
def test_rules_refuse_before_calling_46elks(world, live_tenant, elks, kw, message) -> None:
    with pytest.raises(NumberError, match=message):
        _rent(live_tenant, world, **kw)
    assert _allocations(elks) == 0


def test_suspended_tenant_cannot_rent(world, live_tenant, elks) -> None:
    live_tenant.status = "suspended"
    live_tenant.save()
    with pytest.raises(NumberError, match="suspended"):
        _rent(live_tenant, world)
    assert _allocations(elks) == 0

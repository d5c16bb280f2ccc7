"""Calls and number rentals rated at the tenant's price: through the real hang-up path, the
history sync, renting against the sandbox and the number-months beat task; reservations for
click-to-call and rentals, refused before anything reaches 46elks."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from billing.ledger.models import UsageEntry
from billing.models import BillingAccount, PlanPrice, RatePlan, RatePlanVersion
from billing.periods import current_period, next_period
from calls.billing import (
    call_rate,
    call_reservation_release,
    call_reservations_expire,
    click_to_call_estimate,
)
from calls.models import Call
from calls.services import CallError, click_to_call
from calls.sync import _upsert_call
from numbers.billing import month_source, number_months_rate
from numbers.models import PhoneNumber
from numbers.services import NumberError, number_release, number_rent
from providers.elks.types import Call as ElksCall
from providers.services import webhooks_drain
from tests.conftest import World, client_for

STHLM = ZoneInfo("Europe/Stockholm")
OURS = "+46766861475"
CALLER = "+46700000001"
FORWARD = "+46701111111"
CUSTOMER = "+46701112233"


def _plan(tenant_id: int, *, first: int = 60, step: int = 60, fee: int = 1000) -> RatePlan:
    plan = RatePlan.objects.create(name=f"Voice {first}/{step}")
    version = RatePlanVersion.objects.create(
        plan=plan, effective_from=date(2000, 1, 1), markup_bp=0,
        call_first_seconds=first, call_next_seconds=step, call_connection_fee=fee,
    )  # fmt: skip
    PlanPrice.objects.create(version=version, kind="call_minute", country="se", price=12_000)
    PlanPrice.objects.create(
        version=version, kind="number_month", country="se", category="mobile", price=400_000
    )
    BillingAccount.objects.filter(pk=tenant_id).update(plan=plan, monthly_limit=10_000_000)
    return plan


@pytest.fixture
def number(world: World) -> PhoneNumber:
    with scope(tenant=world.tenant_a.pk):
        return PhoneNumber.objects.create(
            tenant=world.tenant_a, provider_id="n1", number=OURS, country="se",
            has_sms=True, has_voice=True, status="active",
        )  # fmt: skip


def _hangup(callid: str, *, duration: int, leg_seconds: int, cost: int) -> dict[str, str]:
    return {
        "id": callid,
        "direction": "incoming",
        "from": CALLER,
        "to": OURS,
        "created": "2026-11-25T10:00:00",
        "state": "success",
        "start": "2026-11-25T10:00:02",
        "duration": str(duration),
        "cost": str(cost),
        "actions": json.dumps([{"connect": FORWARD, "result": "success"}]),
        "legs": json.dumps(
            [{"duration": leg_seconds, "from": CALLER, "state": "success", "to": FORWARD}]
        ),
    }


def _post_hangup(number: PhoneNumber, payload: dict[str, str]) -> None:
    assert Client().post(f"/hooks/elks/{number.hook_token}/hangup/", payload).status_code == 200
    with scopes_disabled():
        webhooks_drain()


def _entries(tenant_id: int, prefix: str) -> list[UsageEntry]:
    with scope(tenant=tenant_id):
        return list(
            UsageEntry.objects.filter(tenant_id=tenant_id, source__startswith=prefix).order_by(
                "source", "seq"
            )
        )


@pytest.mark.parametrize(
    ("step", "price"),
    [
        (60, 1000 + 2 * 12_000),  # 61 s billed as two whole minutes, plus the connection fee
        (1, 1000 + 12_200),  # 60/1: a first minute, then per second (61 s)
    ],
)
def test_hangup_rates_each_leg_once_with_increments_and_fee(
    world: World, number, step: int, price: int
) -> None:
    a = world.tenant_a.pk
    _plan(a, step=step)
    payload = _hangup("c1", duration=65, leg_seconds=61, cost=3000)
    _post_hangup(number, payload)
    _post_hangup(number, payload)  # 46elks retried the callback: nothing more
    with scope(tenant=a):
        call = Call.objects.get()
    [entry] = _entries(a, f"call:{call.pk}:")
    assert entry.source == f"call:{call.pk}:0" and entry.kind == "call"
    assert (entry.price, entry.provider_cost, entry.quantity) == (
        price,
        3000,
        61 if step == 1 else 120,
    )
    assert entry.number_id == number.pk and entry.country == "se"
    assert call.price == price and call.cost == 3000
    account = BillingAccount.objects.get(pk=a)
    assert account.period_spent == price and account.reserved == 0


def test_history_sync_corrects_a_later_cost_and_rates_unseen_calls(world: World, number) -> None:
    a = world.tenant_a.pk
    _plan(a)
    _post_hangup(number, _hangup("c1", duration=65, leg_seconds=61, cost=3000))
    with scope(tenant=a):
        call = Call.objects.get()
        base = {
            "id": "c1", "direction": "incoming", "from": CALLER, "to": OURS, "state": "success",
            "created": "2026-11-25T10:00:00", "start": "2026-11-25T10:00:02",
            "legs": json.loads(_hangup("c1", duration=65, leg_seconds=61, cost=0)["legs"]),
        }  # fmt: skip
        # The history reports a different cost: the cost is corrected, the price stays.
        _upsert_call(world.tenant_a, ElksCall.from_api({**base, "duration": 65, "cost": 3200}))
        _upsert_call(world.tenant_a, ElksCall.from_api({**base, "duration": 65, "cost": 3200}))
        # ... then a longer forwarded leg: the price is corrected too.
        legs = [{"duration": 125, "from": CALLER, "state": "success", "to": FORWARD}]
        longer = {**base, "duration": 130, "cost": 4500, "legs": legs}
        _upsert_call(world.tenant_a, ElksCall.from_api(longer))
        _upsert_call(world.tenant_a, ElksCall.from_api(longer))
        call.refresh_from_db()
        # A call 46elks has that was never recorded here is rated as a new event.
        unseen = {
            "id": "c2", "direction": "outgoing", "from": OURS, "to": CUSTOMER,
            "state": "success", "created": "2026-11-26T09:00:00", "duration": 30, "cost": 1500,
        }  # fmt: skip
        _upsert_call(world.tenant_a, ElksCall.from_api(unseen))
        _upsert_call(world.tenant_a, ElksCall.from_api(unseen))
        imported = Call.objects.get(elks_id="c2")
    entries = _entries(a, f"call:{call.pk}:")
    assert [(e.seq, e.price, e.provider_cost) for e in entries] == [
        (0, 25_000, 3000),
        (1, 0, 200),
        (2, 12_000, 1300),  # 125 s: three minutes billed, one more than before
    ]
    assert call.price == 37_000
    [new] = _entries(a, f"call:{imported.pk}:")
    assert (new.seq, new.price, new.provider_cost) == (0, 13_000, 1500)
    assert imported.price == 13_000 and imported.source == "history"
    assert BillingAccount.objects.get(pk=a).period_spent == 37_000 + 13_000


def test_history_sync_leaves_a_call_from_before_rating_alone(world: World, number) -> None:
    a = world.tenant_a.pk
    with scope(tenant=a):
        old = Call.objects.create(
            tenant=world.tenant_a, elks_id="c-old", direction="out", state="success",
            number=number, ours=OURS, other=CUSTOMER, duration=30, cost=1500,
        )  # fmt: skip
        same = {
            "id": "c-old", "direction": "outgoing", "from": OURS, "to": CUSTOMER,
            "state": "success", "duration": 30, "cost": 1500,
        }  # fmt: skip
        assert _upsert_call(world.tenant_a, ElksCall.from_api(same)) == 0
        old.refresh_from_db()
    assert old.price is None and _entries(a, "call:") == []


def test_unanswered_call_rates_nothing(world: World, number) -> None:
    a = world.tenant_a.pk
    _plan(a)
    payload = {**_hangup("c3", duration=0, leg_seconds=0, cost=0), "state": "failed"}
    payload.pop("legs")
    _post_hangup(number, payload)
    assert _entries(a, "call:") == []
    with scope(tenant=a):
        assert Call.objects.get().price == 0


# --- click-to-call and renting against the sandbox ------------------------------------------


@pytest.fixture
def owner(live_tenant):
    user = live_tenant.memberships.get().user
    user.phone = "+46701234567"
    user.save()
    return user


def _rent(tenant, world: World, **kw):
    args = {"country": "se", "capabilities": ["sms", "voice"], "category": "mobile"}
    return number_rent(tenant=tenant, request_key=uuid.uuid4(), actor=world.staff, **{**args, **kw})


def test_click_to_call_reserves_then_the_hangup_settles(world, live_tenant, owner, elks) -> None:
    t = live_tenant.pk
    _plan(t)
    rented = _rent(live_tenant, world)
    month = 400_000  # the plan's listed price for a Swedish mobile number
    assert BillingAccount.objects.get(pk=t).period_spent == month
    estimate = click_to_call_estimate(tenant_id=t, agent=owner.phone, customer=CUSTOMER)
    # Two legs (your phone, the customer), each the fee and ten minutes at 120.00 SEK/min.
    assert estimate == 2 * (1000 + 10 * 12_000)
    call = click_to_call(
        tenant=live_tenant, user=owner, number=rented, to=CUSTOMER, request_key=uuid.uuid4()
    )
    assert call.reserved == estimate
    assert BillingAccount.objects.get(pk=t).reserved == estimate
    [attempt, *_] = elks.wait_for_deliveries(1, kind="hangup", ref=call.elks_id, timeout=5)
    _post_hangup(rented, attempt["data"])
    call.refresh_from_db()
    entries = _entries(t, f"call:{call.pk}:")
    # The sandbox bills the call to your phone and the customer's answered leg.
    assert [e.source for e in entries] == [f"call:{call.pk}:0", f"call:{call.pk}:1"]
    assert sum(e.provider_cost for e in entries) == call.cost
    assert call.price == sum(e.price for e in entries) > 0 and call.reserved == 0
    account = BillingAccount.objects.get(pk=t)
    assert account.reserved == 0 and account.period_spent == month + call.price


def test_a_hangup_after_the_reservation_was_released_never_writes_it_back(
    world, live_tenant, owner, elks
) -> None:
    """The reservation was given back (expired) before the hang-up arrived: the hang-up's
    save must not put the old figure back on the row, or it would be released twice."""
    t = live_tenant.pk
    rented = _rent(live_tenant, world)
    call = click_to_call(
        tenant=live_tenant, user=owner, number=rented, to=CUSTOMER, request_key=uuid.uuid4()
    )
    stale = Call.objects.get(pk=call.pk)  # the hang-up handler has read the call...
    call_reservation_release(call=Call.objects.get(pk=call.pk))  # ...then the expiry runs
    assert BillingAccount.objects.get(pk=t).reserved == 0
    stale.state, stale.duration, stale.cost = "success", 30, 2_000
    call_rate(call=stale, save=False)  # what call_hangup does, then it saves the row
    stale.save()
    call.refresh_from_db()
    assert call.reserved == 0 and call.price is not None
    assert call_reservations_expire(tenant_id=t) == 0
    assert BillingAccount.objects.get(pk=t).reserved == 0


def test_click_to_call_refused_by_46elks_releases_the_reservation(
    world, live_tenant, owner, elks
) -> None:
    rented = _rent(live_tenant, world)
    elks.set_chaos(rate=1, mode="429", paths=["calls"], methods=["POST"])
    with pytest.raises(CallError, match="46elks could not place the call"):
        click_to_call(
            tenant=live_tenant, user=owner, number=rented, to=CUSTOMER, request_key=uuid.uuid4()
        )
    assert BillingAccount.objects.get(pk=live_tenant.pk).reserved == 0
    assert Call.objects.get().reserved == 0


def test_an_unconfirmed_click_to_call_keeps_its_reservation_until_it_expires(
    world, live_tenant, owner, elks, settings
) -> None:
    rented = _rent(live_tenant, world)
    settings.ELKS_TIMEOUT = 0.5
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=1.5, paths=["calls"], methods=["POST"])
    call = click_to_call(
        tenant=live_tenant, user=owner, number=rented, to=CUSTOMER, request_key=uuid.uuid4()
    )
    elks.clear_chaos()
    assert call.state == "unknown" and call.reserved > 0
    assert call_reservations_expire(tenant_id=live_tenant.pk) == 0  # it may still be going
    settings.CALL_RESERVATION_MAX_SECONDS = 0
    assert call_reservations_expire(tenant_id=live_tenant.pk) == 1
    assert call_reservations_expire(tenant_id=live_tenant.pk) == 0
    assert BillingAccount.objects.get(pk=live_tenant.pk).reserved == 0


def test_a_call_that_does_not_fit_is_refused_on_the_form(world, live_tenant, owner, elks) -> None:
    rented = _rent(live_tenant, world)
    spent = BillingAccount.objects.get(pk=live_tenant.pk).period_spent
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=spent + 100)
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(owner)
    key = re.search(
        r'name="request_key" value="([^"]+)"', client.get(f"{base}dial/").content.decode()
    )
    response = client.post(
        f"{base}dial/", {"request_key": key.group(1), "number": rented.pk, "to": CUSTOMER}
    )
    assert response.status_code == 400
    assert "over your monthly spending limit" in response.content.decode()
    assert not elks.api_requests(method="POST", path="/a1/calls")
    assert not Call.objects.exists()
    assert BillingAccount.objects.get(pk=live_tenant.pk).reserved == 0


def test_renting_rates_the_first_month_and_reserves_before_46elks(world, live_tenant, elks) -> None:
    t = live_tenant.pk
    number = _rent(live_tenant, world)
    period = current_period("Europe/Stockholm")
    [entry] = _entries(t, "number:")
    assert entry.source == month_source(number.pk, period) == f"number:{number.pk}:{period:%Y-%m}"
    # The default plan lists no number price: its 25% markup over the catalogue's cost.
    assert (entry.price, entry.provider_cost, entry.number_id) == (312_500, 250_000, number.pk)
    account = BillingAccount.objects.get(pk=t)
    assert account.reserved == 0 and account.period_spent == 312_500
    assert number.reserved == 0


def test_rent_refused_by_46elks_releases_the_reservation(world, live_tenant, elks) -> None:
    elks.set_pool("se", [])
    with pytest.raises(NumberError, match="46elks could not rent"):
        _rent(live_tenant, world)
    account = BillingAccount.objects.get(pk=live_tenant.pk)
    assert account.reserved == 0 and account.period_spent == 0
    assert _entries(live_tenant.pk, "number:") == []


def test_a_rental_that_does_not_fit_is_refused_on_the_form(world, live_tenant, elks) -> None:
    BillingAccount.objects.filter(pk=live_tenant.pk).update(monthly_limit=100_000)
    client = client_for(live_tenant.memberships.get().user)
    base = f"/t/{live_tenant.slug}/numbers"
    page = client.get(f"{base}/rent/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    data = {"country": "se", "category": "mobile", "capabilities": ["sms"], "request_key": key}
    response = client.post(f"{base}/rent/", data)
    assert response.status_code == 400
    assert "over your monthly spending limit" in response.content.decode()
    assert not elks.api_requests(method="POST", path="/a1/numbers")
    assert not PhoneNumber.objects.exists()
    assert BillingAccount.objects.get(pk=live_tenant.pk).reserved == 0


def test_prepaid_rental_without_balance_is_refused(world, live_tenant, elks) -> None:
    BillingAccount.objects.filter(pk=live_tenant.pk).update(mode="prepaid", balance=0)
    with pytest.raises(NumberError, match="Not enough balance"):
        _rent(live_tenant, world)
    assert not elks.api_requests(method="POST", path="/a1/numbers")


def test_number_months_across_a_month_boundary(world, live_tenant, elks) -> None:
    t = live_tenant.pk
    number = _rent(live_tenant, world)
    kept = _rent(live_tenant, world)
    this = current_period("Europe/Stockholm")
    following = next_period(this)
    just_after = datetime(following.year, following.month, 1, 0, 10, tzinfo=STHLM)
    assert number_months_rate(at=just_after - timedelta(hours=1)) == 0  # month already rated
    number_release(number=number, actor=world.owner_a)  # quarantined: not rated again
    assert number_months_rate(at=just_after) == 1
    assert number_months_rate(at=just_after) == 0  # the daily run again: nothing
    assert number_months_rate(at=just_after + timedelta(days=1)) == 0
    sources = [e.source for e in _entries(t, "number:")]
    assert sorted(sources) == sorted(
        [
            month_source(number.pk, this),
            month_source(kept.pk, this),
            month_source(kept.pk, following),
        ]
    )
    [renewal] = _entries(t, month_source(kept.pk, following))
    assert renewal.occurred_at == datetime(following.year, following.month, 1, tzinfo=STHLM)
    assert renewal.price == 312_500 and renewal.provider_cost == 250_000


# --- what tenants and staff see ---------------------------------------------------------------


def test_tenant_pages_show_the_plan_price_and_staff_see_cost_and_margin(
    world, live_tenant, elks
) -> None:
    t = live_tenant.pk
    _plan(t)
    number = _rent(live_tenant, world)
    owner = client_for(live_tenant.memberships.get().user)
    base = f"/t/{live_tenant.slug}/numbers"
    price = owner.get(f"{base}/rent/price/?country=se&category=mobile", HTTP_HX_REQUEST="true")
    assert "40.00 SEK" in price.content.decode() and "25.00 SEK" not in price.content.decode()
    detail = owner.get(f"{base}/{number.pk}/").content.decode()
    assert "40.00 SEK" in detail and "25.00 SEK" not in detail
    staff = client_for(world.staff)
    page = staff.get(reverse("staff_numbers:number", args=[number.pk])).content.decode()
    assert "40.00 SEK" in page and "25.00 SEK" in page and "15.00 SEK" in page
    rent = staff.get(reverse("staff_numbers:rent", args=[live_tenant.slug])).content.decode()
    assert "40.00" in rent and "25.00" in rent and "15.00" in rent


def test_call_detail_shows_staff_the_margin_and_tenants_only_the_price(
    world: World, number
) -> None:
    with scope(tenant=world.tenant_a.pk):
        call = Call.objects.create(
            tenant=world.tenant_a, direction="in", state="success", number=number, ours=OURS,
            other=CALLER, duration=70, cost=3_300, price=25_000,
            legs=[{"to": FORWARD, "state": "success", "duration": 61, "cost": 3_300}],
        )  # fmt: skip
    url = f"/t/{world.tenant_a.slug}/calls/{call.pk}/"
    tenant_page = client_for(world.owner_a).get(url).content.decode()
    assert "2.50 SEK" in tenant_page and "0.33 SEK" not in tenant_page and "3300" not in tenant_page
    staff_page = client_for(world.staff).get(url).content.decode()
    assert "2.50 SEK" in staff_page and "0.33 SEK" in staff_page and "2.17 SEK" in staff_page

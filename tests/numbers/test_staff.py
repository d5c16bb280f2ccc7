"""Staff pages for numbers: all numbers, rent for a tenant, prices, closing, Infobip."""

from __future__ import annotations

import re
import uuid

import pytest
from django_scopes import scopes_disabled

from console.sync import provider_sync
from numbers.models import NumberPolicy, NumberPrice, PhoneNumber
from numbers.services import number_rent
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world: World):
    return client_for(world.staff)


def test_staff_sees_every_tenants_numbers_with_filters(world: World, staff) -> None:
    PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46700000001",
        country="se",
        status="active",
    )
    PhoneNumber.objects.create(
        tenant=world.tenant_b,
        provider_id="n2",
        number="+46700000002",
        country="se",
        status="active",
    )
    PhoneNumber.objects.create(
        tenant=None,
        provider="infobip",
        provider_id="k3",
        number="+4915100000003",
        country="de",
        status="unassigned",
    )
    page = staff.get("/staff/numbers/").content.decode()
    assert "Acme" in page and "Bravo" in page and "1 unassigned" in page
    only_b = staff.get("/staff/numbers/?tenant=bravo").content.decode()
    assert "+46 70 000 00 02" in only_b and "+46 70 000 00 01" not in only_b
    infobip_only = staff.get("/staff/numbers/?provider=infobip").content.decode()
    assert "Infobip" in infobip_only and "+46 70 000 00 01" not in infobip_only


def test_customers_cannot_open_staff_number_pages(world: World) -> None:
    for url in ("/staff/numbers/", "/staff/numbers/prices/", "/staff/infobip/"):
        assert client_for(world.owner_a).get(url).status_code == 404


def test_staff_rents_for_a_tenant(world, staff, live_tenant, elks) -> None:
    page = staff.get(f"/staff/tenants/{live_tenant.slug}/rent/").content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    response = staff.post(
        f"/staff/tenants/{live_tenant.slug}/rent/",
        {"country": "se", "category": "mobile", "capabilities": ["voice"], "request_key": key},
    )
    assert response.status_code == 302
    with scopes_disabled():
        number = PhoneNumber.objects.get()
    assert number.tenant == live_tenant
    assert (
        elks.api_requests(method="POST", path="/a1/numbers")[0]["user"]
        == live_tenant.elks_subaccount_id
    )


def test_prices_and_quarantine_period(staff) -> None:
    data = {
        "price-country": "SE",
        "price-category": "mobile",
        "price-currency": "sek",
        "price-monthly_price": "25",
    }
    assert staff.post("/staff/numbers/prices/", data).status_code == 302
    data["price-monthly_price"] = "30.50"
    staff.post("/staff/numbers/prices/", data)
    price = NumberPrice.objects.get()
    assert (price.country, price.currency, price.monthly_price) == ("se", "SEK", 305_000)
    bad = staff.post("/staff/numbers/prices/", {**data, "price-monthly_price": "-1"})
    assert bad.status_code == 400 and "cannot be negative" in bad.content.decode()
    staff.post("/staff/numbers/prices/", {"policy-quarantine_days": "14"})
    assert NumberPolicy.current().quarantine_days == 14


def test_closing_a_tenant_from_the_console(world, staff, live_tenant, elks) -> None:
    number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.staff,
    )
    url = f"/staff/tenants/{live_tenant.slug}/close/"
    assert "permanently deactivates" in staff.get(url).content.decode()
    assert staff.post(url, {"confirm": "nope"}).status_code == 400
    assert staff.post(url, {"confirm": live_tenant.name}).status_code == 302
    live_tenant.refresh_from_db()
    assert live_tenant.status == "closed"


def test_infobip_pages_say_when_not_configured(staff, settings) -> None:
    settings.INFOBIP_BASE_URL = ""
    assert "Infobip is not configured" in staff.get("/staff/infobip/").content.decode()
    assert "Infobip is not configured" in staff.get("/staff/infobip/owned/").content.decode()


def test_infobip_search_purchase_assign_list_and_cancel(world, staff, infobip) -> None:
    infobip.clear_available()
    keys = infobip.add_available(
        "SE",
        [f"4670000{i:04d}" for i in range(25)],
        capabilities=("SMS", "VOICE"),
        prices={"pricePerMonth": 2.5, "setupPrice": 1, "currency": "EUR"},
    )
    page = staff.get("/staff/infobip/?country=se&capabilities=SMS&number=").content.decode()
    assert "25 numbers found" in page and "Next" in page and "2.5" in page
    page2 = staff.get("/staff/infobip/?country=se&capabilities=SMS&number=&page=2").content.decode()
    assert "Page 3" in page2
    matched = staff.get("/staff/infobip/?country=se&number=00007").content.decode()
    assert "+46700000007" in matched and "+46700000008" not in matched

    purchase = {"number_key": keys[7], "number": "46700000007", "tenant": world.tenant_a.pk}
    response = staff.post("/staff/infobip/purchase/", purchase)
    assert response.status_code == 302
    with scopes_disabled():
        number = PhoneNumber.objects.get(provider="infobip")
    assert number.tenant == world.tenant_a and number.status == "active"
    assert number.monthly_price == 25_000 and number.currency == "EUR"
    # A second click cannot buy twice.
    staff.post("/staff/infobip/purchase/", purchase)
    assert len(infobip.api_requests(method="POST")) == 1

    owned = staff.get("/staff/infobip/owned/").content.decode()
    assert "+46700000007" in owned and "Acme" in owned
    assert keys[7] in staff.get(f"/staff/infobip/owned/{keys[7]}/").content.decode()

    response = staff.post(f"/staff/numbers/{number.pk}/release-now/", {"confirm": "+46700000007"})
    assert response.status_code == 302
    number.refresh_from_db()
    assert number.status == "released"
    assert infobip.owned_number(keys[7]) is None


def test_infobip_purchase_timeout_checks_before_buying_again(
    world, staff, infobip, settings
) -> None:
    settings.INFOBIP_TIMEOUT = 0.5
    infobip.clear_available()
    key = infobip.add_available("SE", ["46700009999"], capabilities=("SMS",))[0]
    infobip.set_chaos(rate=1, mode="timeout", methods=["POST"], timeout_sleep=1.5)
    staff.post(
        "/staff/infobip/purchase/", {"number_key": key, "number": "46700009999", "tenant": ""}
    )
    infobip.clear_chaos()
    with scopes_disabled():
        number = PhoneNumber.objects.get(provider="infobip")
    assert number.status == "unassigned" and number.number == "+46700009999"
    staff.post("/staff/infobip/purchase/", {"number_key": key, "number": "46700009999"})
    assert len(infobip.api_requests(method="POST")) == 1

    response = staff.post(f"/staff/numbers/{number.pk}/assign/", {"tenant": world.tenant_b.pk})
    assert response.status_code == 302
    number.refresh_from_db()
    assert number.tenant == world.tenant_b and number.status == "active"


def test_sync_imports_infobip_numbers_for_staff_to_assign(world, infobip, elks) -> None:
    infobip.clear_available()
    key = infobip.add_available("DE", ["4915100000001"], capabilities=("SMS",))[0]
    infobip.give(key)
    world.tenant_a.elks_subaccount_id = None
    world.tenant_a.save()
    world.tenant_b.elks_subaccount_id = None
    world.tenant_b.save()
    result = provider_sync()
    assert "1 imported" in str(result)
    with scopes_disabled():
        number = PhoneNumber.objects.get(provider="infobip")
    assert number.tenant is None and number.status == "unassigned"

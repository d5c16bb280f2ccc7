"""The Numbers pages as an owner and a member see them."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from numbers.models import PhoneNumber
from tests.conftest import World, client_for


def _owner(live_tenant):
    return client_for(live_tenant.memberships.get().user)


def test_rent_page_shows_the_price_and_rents(world, live_tenant, elks) -> None:
    client = _owner(live_tenant)
    base = f"/t/{live_tenant.slug}/numbers"
    page = client.get(f"{base}/rent/").content.decode()
    assert "a specific number cannot be chosen" in page
    price = client.get(f"{base}/rent/price/?country=SE&category=mobile", HTTP_HX_REQUEST="true")
    # The default plan's 25% markup over the catalogue's 25.00 SEK: the tenant's price.
    assert "31.25 SEK" in price.content.decode()
    assert (
        "not offered"
        in client.get(f"{base}/rent/price/?country=FI&category=mobile").content.decode()
    )

    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    data = {
        "country": "se",
        "category": "mobile",
        "capabilities": ["sms", "voice"],
        "request_key": key,
    }
    response = client.post(f"{base}/rent/", data)
    assert response.status_code == 302
    number = PhoneNumber.objects.get()
    assert response.url == f"{base}/{number.pk}/"
    # The same form posted again (a double click) rents nothing more.
    assert client.post(f"{base}/rent/", data).status_code == 302
    assert PhoneNumber.objects.count() == 1
    assert len(elks.api_requests(method="POST", path="/a1/numbers")) == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"country": "se", "category": "fixed", "capabilities": ["sms"]}, "cannot have SMS"),
        ({"country": "s1", "category": "mobile", "capabilities": ["voice"]}, "not offered"),
        ({"country": "se", "category": "mobile"}, "This field is required"),
        ({"country": "fi", "category": "mobile", "capabilities": ["voice"]}, "not offered"),
    ],
)
def test_rent_errors_are_shown_and_nothing_is_rented(live_tenant, elks, data, error) -> None:
    response = _owner(live_tenant).post(
        f"/t/{live_tenant.slug}/numbers/rent/", {**data, "request_key": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert PhoneNumber.objects.count() == 0


def test_provider_refusal_is_shown_on_the_form(live_tenant, elks) -> None:
    elks.set_pool("se", [])
    response = _owner(live_tenant).post(
        f"/t/{live_tenant.slug}/numbers/rent/",
        {
            "country": "se",
            "category": "mobile",
            "capabilities": ["voice"],
            "request_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 400
    assert "46elks could not rent a number" in response.content.decode()


def test_member_sees_routing_but_cannot_change_it(world: World) -> None:
    number = PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46766861475",
        country="se",
        has_sms=True,
        has_voice=True,
        status="active",
    )
    member = client_for(world.member_a)
    page = member.get(f"/t/acme/numbers/{number.pk}/").content.decode()
    assert "Only owners can change routing" in page and "Rent a number" not in page
    for action in ("routing", "release", "restore", "reapply", "rotate-token"):
        assert member.post(f"/t/acme/numbers/{number.pk}/{action}/").status_code == 403


def test_routing_form_validates(world: World) -> None:
    number = PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46766861475",
        country="se",
        has_sms=True,
        has_voice=True,
        status="active",
    )
    response = client_for(world.owner_a).post(
        f"/t/acme/numbers/{number.pk}/routing/",
        {"forward_1": "12", "sms_webhook_url": "http://127.0.0.1/x", "sms_autoreply_enabled": "on"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "is not a" in page and "Use an https:// URL" in page and "Write the reply" in page
    number.refresh_from_db()
    assert number.voice_forwards == []


def test_release_needs_the_number_typed(world: World) -> None:
    number = PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46766861475",
        country="se",
        has_voice=True,
        status="active",
    )
    owner = client_for(world.owner_a)
    assert (
        owner.post(f"/t/acme/numbers/{number.pk}/release/", {"confirm": "123"}).status_code == 400
    )
    response = owner.post(f"/t/acme/numbers/{number.pk}/release/", {"confirm": "+46 76 686 14 75"})
    assert response.status_code == 302
    number.refresh_from_db()
    assert number.status == "quarantined"
    assert "Restore number" in owner.get(f"/t/acme/numbers/{number.pk}/").content.decode()


def _bulk_numbers(tenant, count: int) -> None:
    now = timezone.now()
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(
                tenant=tenant,
                provider_id=f"n{i}",
                number=f"+4676{i:07d}",
                country="se" if i % 3 else "no",
                has_sms=bool(i % 2),
                has_voice=True,
                status="active" if i % 5 else "released",
                created=now - timezone.timedelta(seconds=i),
                hook_token=f"t{tenant.pk}-{i}",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


def test_list_filters_search_and_pages(world: World) -> None:
    _bulk_numbers(world.tenant_a, 120)
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/numbers/").content.decode()
    assert page.count('class="badge badge-') >= 50 and "Next page" in page
    cursor = re.search(r"after=([\w=-]+)", page).group(1)
    second = owner.get(f"/t/acme/numbers/?after={cursor}").content.decode()
    assert "+460000049" not in second and "First page" in second
    assert "+46760000007" in owner.get("/t/acme/numbers/?q=0000007").content.decode()
    no_only = owner.get("/t/acme/numbers/?country=no&status=released").content.decode()
    assert "+46760000015" in no_only and "+46760000001" not in no_only
    assert "No number matches" in owner.get("/t/acme/numbers/?q=999999").content.decode()
    partial = owner.get("/t/acme/numbers/?capability=sms", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('\n<div id="results">') or partial.lstrip().startswith(
        '<div id="results">'
    )


def test_empty_state(world: World) -> None:
    page = client_for(world.owner_a).get("/t/acme/numbers/").content.decode()
    assert "No numbers yet" in page and "Rent a number" in page


def test_list_over_10000_numbers_uses_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:
    _bulk_numbers(world.tenant_a, 10_000)
    owner = client_for(world.owner_a)
    owner.get("/t/acme/numbers/")  # warm the session
    with django_assert_max_num_queries(8):
        response = owner.get("/t/acme/numbers/?after=" + "x")
    assert response.status_code == 200
    page = response.content.decode()
    cursor = re.search(r"after=([\w=-]+)", page).group(1)
    with django_assert_max_num_queries(8):
        assert owner.get(f"/t/acme/numbers/?after={cursor}&country=se").status_code == 200


def test_list_counts_messages_and_calls_of_the_last_30_days(world: World) -> None:
    from calls.models import Call
    from messaging.models import Message

    number = PhoneNumber.objects.create(
        tenant=world.tenant_a,
        provider_id="n1",
        number="+46766861475",
        country="se",
        has_sms=True,
        has_voice=True,
        status="active",
    )
    for _ in range(3):
        Message.objects.create(
            tenant=world.tenant_a,
            number=number,
            direction="in",
            status="received",
            ours=number.number,
            other="+46700000001",
        )
    Message.objects.create(
        tenant=world.tenant_a,
        number=number,
        direction="in",
        status="received",
        ours=number.number,
        other="+46700000001",
        created=timezone.now() - timezone.timedelta(days=31),
    )
    # Calls are counted from the calls app: in and out (click-to-call), not older ones.
    for n, direction in enumerate(["in", "out", "in"]):
        Call.objects.create(
            tenant=world.tenant_a,
            elks_id=f"c{n}",
            direction=direction,
            number=number,
            ours=number.number,
            other="+46700000001",
            created=timezone.now() - timezone.timedelta(days=31 if n == 2 else 0),
        )
    page = client_for(world.owner_a).get("/t/acme/numbers/").content.decode()
    assert "3 / 2" in page


def test_rent_offers_the_priced_countries_by_name_only(live_tenant, elks) -> None:
    from numbers.models import NumberPrice

    page = _owner(live_tenant).get(f"/t/{live_tenant.slug}/numbers/rent/").content.decode()
    assert '<option value="se">Sweden (SE)</option>' in page
    assert '<option value="no">Norway (NO)</option>' in page
    assert 'value="fi"' not in page  # no price for Finland: not offered
    NumberPrice.objects.create(country="fi", category="mobile", monthly_price=200_000)
    page = _owner(live_tenant).get(f"/t/{live_tenant.slug}/numbers/rent/").content.decode()
    assert '<option value="fi">Finland (FI)</option>' in page
    assert page.index("Finland") < page.index("Norway") < page.index("Sweden")

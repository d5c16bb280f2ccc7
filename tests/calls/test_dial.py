"""Click-to-call from the Dial page against the 46elks sandbox, then the hangup callback."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Membership
from calls.models import Call
from numbers.models import PhoneNumber
from numbers.services import number_rent
from providers.services import webhooks_drain
from tests.conftest import World, client_for
from tests.factories import MembershipFactory

CUSTOMER = "+46701112233"


@pytest.fixture
def rented(world: World, live_tenant) -> PhoneNumber:
    return number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["sms", "voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.staff,
    )


@pytest.fixture
def owner(live_tenant):
    user = live_tenant.memberships.get().user
    user.phone = "+46701234567"
    user.save()
    return user


def _form(client: Client, base: str) -> dict[str, str]:
    html = client.get(f"{base}dial/").content.decode()
    return {"request_key": re.search(r'name="request_key" value="([^"]+)"', html).group(1)}


def test_double_submit_places_one_call_and_shows_it(live_tenant, rented, owner, elks) -> None:
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(owner)
    data = {**_form(client, base), "number": rented.pk, "to": "070-111 22 33"}
    first = client.post(f"{base}dial/", data)
    second = client.post(f"{base}dial/", data)
    call = Call.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == f"{base}{call.pk}/"
    assert len(elks.api_requests(method="POST", path="/a1/calls")) == 1
    assert (call.direction, call.source, call.other) == ("out", "click", CUSTOMER)
    assert call.placed_by == owner and call.agent_phone == "+46701234567" and call.elks_id
    page = client.get(first.url).content.decode()
    assert "Call to +46 70 111 22 33" in page and "Ongoing" in page


def test_hangup_callback_completes_the_clicked_call(live_tenant, rented, owner, elks) -> None:
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(owner)
    client.post(f"{base}dial/", {**_form(client, base), "number": rented.pk, "to": CUSTOMER})
    call = Call.objects.get()
    # The sandbox ran the call and tried our (unreachable) whenhangup: play its payload in.
    [attempt, *_] = elks.wait_for_deliveries(1, kind="hangup", ref=call.elks_id, timeout=5)
    payload = attempt["data"]
    assert payload["id"] == call.elks_id and payload["state"] == "success"
    response = Client().post(f"/hooks/elks/{rented.hook_token}/hangup/", payload)
    assert response.status_code == 200
    with scopes_disabled():
        webhooks_drain()
    call.refresh_from_db()
    assert call.state == "success" and call.duration and call.cost
    assert [leg["to"] for leg in call.legs] == [CUSTOMER]
    page = client.get(f"{base}{call.pk}/").content.decode()
    assert "Answered" in page and "<li>Connected to +46 70 111 22 33.</li>" in page
    log = client.get(base).content.decode()
    assert f'id="call-{call.pk}"' in log and "+46 70 111 22 33" in log


def test_member_may_dial(world: World, live_tenant, rented, elks) -> None:
    member = world.member_a
    member.phone = "+46709998877"
    member.save()
    MembershipFactory(user=member, tenant=live_tenant, role=Membership.Role.MEMBER)
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(member)
    response = client.post(
        f"{base}dial/", {**_form(client, base), "number": rented.pk, "to": CUSTOMER}
    )
    assert response.status_code == 302
    assert Call.objects.get().placed_by == member


def test_no_phone_in_profile_is_explained_with_a_link(live_tenant, rented, elks) -> None:
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(live_tenant.memberships.get().user)
    page = client.get(f"{base}dial/").content.decode()
    assert 'href="/accounts/profile/"' in page
    form = _form(client, base)
    response = client.post(f"{base}dial/", {**form, "number": rented.pk, "to": CUSTOMER})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Add your own phone number to your profile first" in html
    assert 'href="/accounts/profile/"' in html
    assert form["request_key"] not in html  # a corrected form is a new call
    assert not Call.objects.exists() and not elks.api_requests(method="POST", path="/a1/calls")


def test_invalid_number_and_foreign_number_are_refused(
    world: World, live_tenant, rented, owner, elks
) -> None:
    base = f"/t/{live_tenant.slug}/calls/"
    client = client_for(owner)
    bad = client.post(f"{base}dial/", {**_form(client, base), "number": rented.pk, "to": "12"})
    assert bad.status_code == 400 and "not a valid phone number" in bad.content.decode()
    with scopes_disabled():
        foreign = PhoneNumber.objects.create(
            tenant=world.tenant_b, number="+46766860001", country="se", has_voice=True,
            status="active", provider_id="nb",
        )  # fmt: skip
    response = client.post(
        f"{base}dial/", {**_form(client, base), "number": foreign.pk, "to": CUSTOMER}
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Call.objects.exists()


def test_dial_form_is_prefilled_from_the_call_back_button(live_tenant, rented, owner) -> None:
    base = f"/t/{live_tenant.slug}/calls/"
    html = (
        client_for(owner).get(f"{base}dial/?number={rented.pk}&to=%2B46700000001").content.decode()
    )
    assert f'<option value="{rented.pk}" selected>' in html
    assert 'value="+46700000001"' in html

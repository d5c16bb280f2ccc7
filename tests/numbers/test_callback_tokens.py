"""Callback tokens: hidden from the tenant's users and masked for staff too, rotated for
a whole tenant from one staff button (re-registered at 46elks, audited)."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Membership
from calls.selectors import action_sentences, raw_actions
from numbers.hooks import redact_callback_tokens
from numbers.models import PhoneNumber
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory


def _page(live_tenant, number) -> str:
    return reverse("numbers:detail", args=(live_tenant.slug, number.pk))


def _voice_number(number):
    # Forwarding + recording put callback URLs (with the token) into the voice action.
    PhoneNumber.objects.filter(pk=number.pk).update(
        voice_forwards=[{"to": "+46700000009", "timeout": 20}],
        record_calls=True,
        voicemail_enabled=True,
    )
    number.refresh_from_db()
    return number


def test_tenant_users_never_see_callback_tokens(world, live_tenant, rented_number) -> None:
    number = _voice_number(rented_number)
    member = UserFactory(email="driver@taxinord.example")
    MembershipFactory(user=member, tenant=live_tenant, role=Membership.Role.MEMBER)
    owner = live_tenant.memberships.get(role=Membership.Role.OWNER).user
    for user in (owner, member):
        page = client_for(user).get(_page(live_tenant, number))
        html = page.content.decode()
        assert page.status_code == 200
        assert number.hook_token not in html
        assert "/hooks/elks/" not in html  # no internal URL either, only words
        assert "Technical details" not in html
        assert "Ring <strong>+46 70 000 00 09</strong> for 20 s · the call is recorded" in html


def test_staff_see_the_masked_json_behind_a_toggle(world, live_tenant, rented_number) -> None:
    number = _voice_number(rented_number)
    html = client_for(world.staff).get(_page(live_tenant, number)).content.decode()
    details = html[html.index('<details class="technical"') : html.index("</details>")]
    assert "Technical details" in details
    assert "/hooks/elks/…/sms/" in details and "&quot;connect&quot;" in details
    # The token is hidden for staff too, inside the toggle and out.
    assert number.hook_token not in html
    assert "/hooks/elks/" not in html.replace(details, "")


def test_another_tenant_gets_404(world, live_tenant, rented_number) -> None:
    response = client_for(world.owner_b).get(_page(live_tenant, rented_number))
    assert response.status_code == 404


def test_call_actions_hide_tokens() -> None:
    url = "https://sb.example/hooks/elks/SeCrEt-tok_en/recording/"
    actions = [{"connect": "+46700000009", "recordcall": url, "result": "success"}]
    assert action_sentences(actions, []) == ["Connected to +46 70 000 00 09."]
    raw = raw_actions(actions)
    assert "SeCrEt" not in raw and "/hooks/elks/…/recording/" in raw
    assert redact_callback_tokens(url) == "https://sb.example/hooks/elks/…/recording/"


def test_staff_rotate_a_tenants_callback_urls(world, live_tenant, rented_number, elks) -> None:
    old = rented_number.hook_token
    url = reverse("staff_numbers:rotate_callbacks", args=(live_tenant.slug,))
    staff = client_for(world.staff)
    confirm = staff.get(url)
    assert confirm.status_code == 200 and "Rotate callback URLs" in confirm.content.decode()
    assert 'id="rotate-numbers"' in confirm.content.decode()
    response = staff.post(url, {"revoke_old": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        number = PhoneNumber.objects.get(pk=rented_number.pk)
    assert number.hook_token != old and number.previous_hook_token is None
    # Registered at 46elks with the new token.
    remote = elks.store.get("numbers", number.provider_id)
    assert number.hook_token in remote["sms_url"] and old not in remote["sms_url"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.CALLBACK_TOKENS_ROTATED)
    assert event.tenant == live_tenant and event.actor == world.staff
    assert event.detail["rotated"] == [number.number] and event.detail["old_kept"] is False
    # The old URL no longer reaches the number.
    hook = client_for(None).post(f"/hooks/elks/{old}/sms/", {"id": "s1", "from": "+4670"})
    assert hook.status_code in (403, 404)


def test_a_routine_rotation_keeps_the_old_token(world, live_tenant, rented_number, elks) -> None:
    old = rented_number.hook_token
    url = reverse("staff_numbers:rotate_callbacks", args=(live_tenant.slug,))
    assert client_for(world.staff).post(url, {}).status_code == 302
    with scopes_disabled():
        number = PhoneNumber.objects.get(pk=rented_number.pk)
    assert number.hook_token != old and number.previous_hook_token == old


def test_non_staff_cannot_rotate(world, live_tenant, rented_number) -> None:
    url = reverse("staff_numbers:rotate_callbacks", args=(live_tenant.slug,))
    owner = live_tenant.memberships.get(role=Membership.Role.OWNER).user
    for user in (owner, world.owner_b, world.member_a):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(url, {"revoke_old": "on"}).status_code == 404
    assert client_for(None).post(url).status_code == 302  # to sign-in
    with scopes_disabled():
        assert PhoneNumber.objects.get(pk=rented_number.pk).hook_token == rented_number.hook_token
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CALLBACK_TOKENS_ROTATED)


def test_the_drift_table_hides_tokens(world, live_tenant, rented_number) -> None:
    ours = f"https://sb.example/hooks/elks/{rented_number.hook_token}/sms/"
    PhoneNumber.objects.filter(pk=rented_number.pk).update(
        provider_drift={"sms_url": {"ours": ours, "theirs": "https://elsewhere.example/sms"}}
    )
    owner = live_tenant.memberships.get(role=Membership.Role.OWNER).user
    html = client_for(owner).get(_page(live_tenant, rented_number)).content.decode()
    assert 'id="drift"' in html and "https://elsewhere.example/sms" in html
    assert rented_number.hook_token not in html and "/hooks/elks/" not in html
    assert (
        "<td>Where 46elks sends the SMS</td><td>This dashboard</td>"
        "<td>https://elsewhere.example/sms</td>"
    ) in html

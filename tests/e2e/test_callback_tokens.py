"""Callback tokens in the browser: routing in words for the owner, masked JSON behind a toggle
for staff, rotated by the owner after a confirmation and for the whole tenant from the staff
console. Screenshots at 390 and 1366 px."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from numbers.models import PhoneNumber
from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in
from tests.factories import StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase-for-tests"


def test_tokens_hidden_toggle_and_rotation(page, live_server, elks) -> None:
    base = live_server.url
    staff = StaffFactory(email="ops@reseller.example")
    staff.set_password(PASSWORD)
    staff.save()
    shop = shop_create(password=PASSWORD, actor=staff)
    tenant = shop.tenant
    number = number_rent_se(shop, capabilities=("sms", "mms", "voice"))
    with scope(tenant=tenant.pk):
        PhoneNumber.objects.filter(pk=number.pk).update(
            voice_forwards=[{"to": "+46700000009", "timeout": 20}], record_calls=True
        )
    detail = f"{base}/t/{tenant.slug}/numbers/{number.pk}/"

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(detail)
        expect(page.locator("#routing-summary #call-flow")).to_contain_text(
            "Ring +46 70 000 00 09 for 20 s · the call is recorded"
        )
        assert number.hook_token not in page.content() and "/hooks/elks/" not in page.content()
        expect(page.get_by_text("Technical details")).to_have_count(0)
        screenshot(page, f"callback-tokens-owner-{width}")
        page.get_by_role("button", name="Rotate callback URLs…").click()
        expect(page.locator("#rotate-confirm")).to_contain_text("When to use it")
        screenshot(page, f"callback-tokens-owner-rotate-confirm-{width}")
    page.get_by_role("button", name="Rotate callback URLs", exact=True).click()
    expect(page.get_by_text("the old ones no longer work")).to_be_visible()
    with scopes_disabled():
        number = PhoneNumber.objects.get(pk=number.pk)
    assert number.previous_hook_token is None

    page.context.clear_cookies()
    sign_in(page, base, "ops@reseller.example", PASSWORD)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(detail)
        toggle = page.locator("#technical-details")
        expect(toggle.locator("code").first).not_to_be_visible()
        toggle.locator("summary").click()
        expect(toggle.locator("#voice-action")).to_contain_text("/hooks/elks/…/")
        assert number.hook_token not in page.content()
        screenshot(page, f"callback-tokens-staff-toggle-{width}")
        page.goto(f"{base}/staff/tenants/{tenant.slug}/rotate-callbacks/")
        expect(
            page.get_by_role("heading", name="Rotate Taxi Nord's callback URLs?")
        ).to_be_visible()
        screenshot(page, f"callback-tokens-rotate-confirm-{width}")

    page.goto(f"{base}/staff/tenants/{tenant.slug}/")
    page.locator("#rotate-callbacks").click()
    page.get_by_role("button", name="Rotate callback URLs", exact=True).click()
    expect(
        page.get_by_text("New callback URLs registered at 46elks for 1 number(s).")
    ).to_be_visible()
    screenshot(page, "callback-tokens-rotated-1366")
    with scopes_disabled():
        assert PhoneNumber.objects.get(pk=number.pk).hook_token != number.hook_token

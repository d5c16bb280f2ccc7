"""Staff creates a tenant; its owner sets a password, signs in and sees the portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.factories import StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_staff_creates_tenant_and_owner_reaches_portal(page, live_server, elks) -> None:
    base = live_server.url
    StaffFactory(email="staff@reseller.example", password=PASSWORD)

    sign_in(page, base, "staff@reseller.example", PASSWORD)
    expect(page.get_by_role("heading", name="Tenants", exact=True)).to_be_visible()
    expect(page.locator("#balance")).to_contain_text("Master account balance")

    page.get_by_role("button", name="New tenant").click()
    page.get_by_label("Name").fill("Cafe Nord")
    page.get_by_label("Usage limit").fill("250")
    page.get_by_label("Owner's email").fill("boss@cafe.example")
    page.get_by_role("button", name="Create tenant").click()

    expect(page.get_by_role("heading", name="Cafe Nord", exact=True)).to_be_visible()
    link = page.get_by_label("Set-password link").input_value()
    assert link.startswith(f"{base}/accounts/set-password/")

    page.get_by_role("link", name="Staff console").first.click()
    expect(page.locator("#tenants")).to_contain_text("Cafe Nord")
    screenshot(page, "staff-console")
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("a-long-new-pass-phrase")
    page.get_by_label("New password confirmation").fill("a-long-new-pass-phrase")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()

    sign_in(page, base, "boss@cafe.example", "a-long-new-pass-phrase")
    expect(page).to_have_url(f"{base}/t/cafe-nord/")
    expect(page.get_by_role("heading", name="Cafe Nord", exact=True)).to_be_visible()
    expect(page.get_by_text("Spend this month").first).to_be_visible()
    screenshot(page, "tenant-portal")

    page.get_by_role("link", name="Numbers").first.click()
    expect(page.get_by_text("No numbers yet")).to_be_visible()

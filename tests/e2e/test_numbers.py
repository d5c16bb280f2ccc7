"""An owner rents a number, forwards calls with voicemail, and sees it in the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from numbers.models import NumberPrice
from tests.e2e.conftest import screenshot, shop_create, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-owner-pass-phrase"


def test_owner_rents_and_routes_a_number(page, live_server, elks) -> None:
    base = live_server.url
    NumberPrice.objects.create(country="se", category="mobile", monthly_price=250_000)
    shop_create(password=PASSWORD)

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.get_by_role("link", name="Numbers").first.click()
    expect(page.get_by_text("No numbers yet")).to_be_visible()
    page.get_by_role("button", name="Rent a number").first.click()

    page.get_by_label("Country").select_option("se")
    # The tenant's plan price (the default plan: 46elks' 25.00 + 25%), before confirming.
    expect(page.locator("#price")).to_contain_text("31.25 SEK")
    page.get_by_label("MMS").check()
    page.get_by_role("button", name="Rent number").click()

    expect(page.get_by_text("Rented +46")).to_be_visible()
    page.get_by_label("Forward calls to").fill("070-123 45 67")
    page.get_by_label("Voicemail when nobody answers").check()
    page.get_by_label("Label").fill("Bookings")
    page.get_by_role("button", name="Save routing").click()
    expect(page.get_by_text("Routing saved and sent to 46elks.")).to_be_visible()
    flow = page.locator("#routing-summary #call-flow")
    expect(flow).to_contain_text("Ring +46 70 123 45 67 for 20 s")
    expect(flow).to_contain_text("Voicemail: play the built-in greeting, then record a message")
    screenshot(page, "number-routing")

    page.get_by_role("link", name="Numbers").first.click()
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("Bookings")
    expect(row).to_contain_text("+46 70 123 45 67 → voicemail")
    expect(row).to_contain_text("Active")
    screenshot(page, "numbers-list")

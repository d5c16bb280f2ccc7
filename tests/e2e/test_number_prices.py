"""The tenant sees its plan's price for numbers; staff see price, 46elks' cost and margin."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import number_rent_se, screenshot, shop_create, sign_in
from tests.factories import StaffFactory

PASSWORD = "a-long-owner-pass-phrase"


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"scrolls sideways: {width}px"


@pytest.mark.parametrize("width", [390, 1366])
def test_number_prices_for_tenant_and_staff(page, live_server, elks, width) -> None:
    base = live_server.url
    staff = StaffFactory(email="ops@reseller.example")
    staff.set_password(PASSWORD)
    staff.save()
    shop = shop_create(password=PASSWORD, actor=staff)
    number = number_rent_se(shop)
    slug = shop.tenant.slug
    page.set_viewport_size({"width": width, "height": 860})

    sign_in(page, base, "owner@taxinord.example", PASSWORD)
    page.goto(f"{base}/t/{slug}/numbers/rent/")
    page.select_option("#id_country", "se")
    # The default plan: 25% over the catalogue's 25.00 SEK.
    expect(page.locator("#price")).to_contain_text("31.25 SEK")
    _no_sideways_scroll(page)
    screenshot(page, f"number-rent-price-{width}")
    page.goto(f"{base}/t/{slug}/numbers/{number.pk}/")
    expect(page.locator("main")).to_contain_text("31.25 SEK")
    assert "25.00 SEK" not in page.content()
    _no_sideways_scroll(page)
    page.context.clear_cookies()

    sign_in(page, base, "ops@reseller.example", PASSWORD)
    page.goto(base + reverse("staff_numbers:number", args=[number.pk]))
    expect(page.locator("#month-price")).to_have_text("31.25 SEK")
    expect(page.locator("#month-cost")).to_have_text("25.00 SEK")
    expect(page.locator("#month-margin")).to_have_text("6.25 SEK")
    _no_sideways_scroll(page)
    screenshot(page, f"staff-number-money-{width}")
    page.goto(base + reverse("staff_numbers:rent", args=[slug]))
    expect(page.locator("main")).to_contain_text("6.25")
    _no_sideways_scroll(page)
    screenshot(page, f"staff-rent-prices-{width}")

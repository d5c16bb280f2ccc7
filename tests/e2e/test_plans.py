"""Staff create a rate plan with prices and a future version, and assign it to a tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import BillingAccount, RatePlan
from tests.e2e.conftest import screenshot, shop_create, sign_in
from tests.e2e.test_a11y import axe_page  # noqa: F401 (fixture)
from tests.factories import StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-staff-pass-phrase"


def _row(page, i: int, kind: str, country: str, price: str, category: str = "") -> None:
    page.locator(f"#id_prices-{i}-kind").select_option(kind)
    page.locator(f"#id_prices-{i}-country").fill(country)
    if category:
        page.locator(f"#id_prices-{i}-category").select_option(category)
    page.locator(f"#id_prices-{i}-price").fill(price)


def test_staff_create_plan_version_and_assign(page, live_server, elks) -> None:
    base = live_server.url
    staff = StaffFactory(email="staff@reseller.example", password=PASSWORD)
    shop = shop_create(actor=staff)
    sign_in(page, base, "staff@reseller.example", PASSWORD)

    page.goto(f"{base}/staff/")
    page.get_by_role("link", name="Rate plans").click()
    page.get_by_label("Name").fill("Gold")
    page.get_by_label("Description").fill("For big senders")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_text("Created Gold")).to_be_visible()

    # A version from next week, its prices typed as rows.
    start = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Takes effect on").fill(start.isoformat())
    page.get_by_role("button", name="Add version").click()
    expect(page.get_by_text(f"Version from {start.isoformat()} added")).to_be_visible()
    page.get_by_label("Markup over provider cost").fill("20")
    page.get_by_label("Call: then blocks of (seconds)").fill("1")
    page.get_by_label("Call connection fee").fill("0.25")
    _row(page, 0, "sms_part", "se", "0.45")
    _row(page, 1, "sms_part", "", "0.79")
    _row(page, 2, "call_minute", "se", "0.95")
    _row(page, 3, "number_month", "se", "35", category="mobile")
    _row(page, 4, "sms_part", "Sweden", "1")  # a mistake, caught
    page.get_by_role("button", name="Save prices").click()
    expect(page.get_by_text("Use the two-letter country code")).to_be_visible()
    page.locator("#id_prices-4-kind").select_option("")
    page.locator("#id_prices-4-country").fill("")
    page.locator("#id_prices-4-price").fill("")
    page.get_by_role("button", name="Save prices").click()
    expect(page.get_by_text("Prices saved.")).to_be_visible()
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"staff-plan-version-{width}")

    page.get_by_role("link", name="Gold").first.click()
    expect(page.locator("#versions")).to_contain_text("future")
    expect(page.locator("#versions")).to_contain_text("in force")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"staff-plan-{width}")

    # Assign it from the tenant's billing page.
    page.goto(f"{base}/staff/tenants/{shop.tenant.slug}/")
    page.locator("#billing-link").click()
    page.get_by_label("Rate plan").select_option(label="Gold")
    page.get_by_role("button", name="Assign plan").click()
    expect(page.get_by_text("Taxi Nord is on Gold.")).to_be_visible()
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"staff-tenant-billing-{width}")

    gold = RatePlan.objects.get(name="Gold")
    assert BillingAccount.objects.get(pk=shop.tenant.pk).plan == gold
    version = gold.versions.get(effective_from=start)
    assert version.markup_bp == 2000 and version.call_connection_fee == 2500
    assert version.prices.count() == 4


def test_billing_staff_pages_pass_axe(axe_page, live_server, elks) -> None:  # noqa: F811
    from billing.models import PlanPrice, RatePlanVersion
    from tests.e2e.test_a11y import _violations
    from tests.e2e.test_layout import staff_sign_in

    shop = shop_create()
    plan = RatePlan.objects.get(is_default=True)
    current = plan.versions.get()
    PlanPrice.objects.create(version=current, kind="sms_part", country="se", price=4500)
    future = RatePlanVersion.objects.create(
        plan=plan, effective_from=timezone.localdate() + timedelta(days=2)
    )
    BillingAccount.objects.filter(pk=shop.tenant.pk).update(mode="prepaid", balance=10_000)
    paths = [
        "/staff/billing/plans/",
        f"/staff/billing/plans/{plan.pk}/",
        f"/staff/billing/versions/{current.pk}/",
        f"/staff/billing/versions/{future.pk}/",
        f"/staff/billing/tenants/{shop.tenant.slug}/",
    ]
    staff_sign_in(axe_page, live_server.url)
    problems = _violations(axe_page, live_server.url, paths, "staff")
    assert not problems, "\n".join(problems)

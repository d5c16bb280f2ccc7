"""Staff drafts, adjusts and issues an invoice in the browser; the owner opens it and downloads
the PDF, whose first page is rendered to PNG (invoice-pdf-page1.png) and read back for text.

Screenshots: invoices-<page>-<width>.png (tests/e2e/artifacts, or SCREENSHOT_DIR).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage
from billing.periods import current_period, previous_period
from tests.e2e.conftest import SCREENSHOTS, number_rent_se, screenshot, shop_create, sign_in
from tests.e2e.test_layout import staff_sign_in


def _both_widths(page: Any, name: str) -> None:
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px too wide at {width}"
        screenshot(page, f"invoices-{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.django_db(transaction=True)
def test_staff_issues_and_the_owner_downloads_the_pdf(page, live_server, elks) -> None:
    import pypdfium2

    base = live_server.url
    shop = shop_create()
    number = number_rent_se(shop)
    month = previous_period(current_period("Europe/Stockholm", timezone.now()))
    with scopes_disabled():
        for kind, quantity, price, cost in [
            ("number", 1, 250_000, 200_000),
            ("sms_out", 1_204, 6_020_000, 4_214_000),
            ("call", 3_725, 744_950, 500_000),
        ]:
            DailyUsage.objects.create(
                tenant=shop.tenant, day=month.replace(day=12), kind=kind, number=number,
                events=quantity, quantity=quantity, price=price, provider_cost=cost, squashed=True,
            )  # fmt: skip

    staff_sign_in(page, base)
    page.goto(f"{base}/staff/billing/invoices/")
    page.get_by_label("Month to draft").fill(f"{month:%Y-%m}")
    page.get_by_role("button", name="Draft invoices").click()
    page.get_by_text("1 drafted").wait_for()
    _both_widths(page, "staff-list")
    page.get_by_role("link", name="Invoice draft").click()
    page.get_by_label("Description").fill("Loyalty discount")
    page.get_by_label("Amount").fill("-100.00")
    page.get_by_role("button", name="Add line").click()
    page.get_by_text("Adjustment added.").wait_for()
    assert "Loyalty discount" in page.locator("#invoice-lines").inner_text()
    _both_widths(page, "staff-draft")
    page.get_by_role("button", name="Issue…").click()
    page.get_by_role(
        "button", name="Issue", exact=True
    ).click()  # without the confirmation: refused
    page.get_by_text("Tick the box to confirm.").wait_for()
    page.get_by_label("I have checked the lines").check()
    page.get_by_role("button", name="Issue", exact=True).click()
    page.get_by_text("Issued as INV-").wait_for()
    _both_widths(page, "staff-issued")

    page.goto("about:blank")
    page.context.clear_cookies()
    sign_in(page, base, shop.owner.email)
    page.goto(f"{base}/t/{shop.tenant.slug}/billing/")
    page.get_by_label("Members can see invoices and statements").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Members can now see invoices").wait_for()
    _both_widths(page, "tenant-billing")
    page.get_by_role("link", name="Invoices and statements").click()
    page.get_by_role("heading", name="Invoices and statements").wait_for()
    _both_widths(page, "tenant-list")
    page.get_by_role("link", name="Invoice INV-").click()
    page.get_by_role("button", name="Download PDF").wait_for()
    text = page.locator("main").inner_text()
    assert "Loyalty discount" in text and "Provider cost" not in text
    _both_widths(page, "tenant-detail")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename.startswith("INV-")
    pdf = pypdfium2.PdfDocument(download.path())
    first = pdf[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOTS / "invoice-pdf-page1.png"
    first.render(scale=1.5).to_pil().save(png)
    words = first.get_textpage().get_text_range()
    assert "Invoice INV-" in words and "Loyalty discount" in words and "Total" in words
    assert "421.40" not in words  # the SMS line's provider cost is staff's only

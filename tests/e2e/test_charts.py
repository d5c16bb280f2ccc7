"""The overview, number and staff charts draw in Chromium at 390 px and 1366 px.

Screenshots: charts-<who>-<page>-<width>.png (tests/e2e/artifacts, or SCREENSHOT_DIR).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage
from calls.models import Call
from console.traffic.services import traffic_rollup_rebuild
from messaging.models import Message
from tests.e2e.conftest import OWNER_PASSWORD, number_rent_se, screenshot, shop_create, sign_in
from tests.factories import StaffFactory

# A chart is drawn when Chart.js holds it and its canvas has a size inside its box.
DRAWN = """() => [...document.querySelectorAll('figure.chart')].map(f => {
  const canvas = f.querySelector('canvas');
  const chart = window.Chart && window.Chart.getChart(canvas);
  return {
    drawn: !!chart && canvas.width > 0 && canvas.height > 0,
    fits: canvas.getBoundingClientRect().width <= f.getBoundingClientRect().width + 1,
    empty: !f.querySelector('.chart-empty').hidden,
    caption: f.querySelector('figcaption').textContent,
    label: canvas.getAttribute('aria-label'),
  };
})"""


def _seed(tenant: Any, number: Any) -> None:
    now = timezone.now()
    with scopes_disabled():
        for back in range(20):
            created = now - timedelta(days=back)
            for n in range(back % 4 + 1):
                Message.objects.create(
                    tenant=tenant,
                    created=created,
                    direction=Message.Direction.OUT,
                    status=Message.Status.FAILED if n == 3 else Message.Status.DELIVERED,
                    number=number if n % 2 else None,
                    ours="+46766861000",
                    other="+46700000001",
                    cost=3500,
                    parts=1,
                )
            Message.objects.create(
                tenant=tenant,
                created=created,
                direction=Message.Direction.IN,
                status=Message.Status.RECEIVED,
                ours="+46766861000",
                other="+46700000001",
            )
            Call.objects.create(
                tenant=tenant,
                created=created,
                direction=Call.Direction.IN,
                state=Call.State.SUCCESS,
                ours="+46766861000",
                other="+46700000001",
                duration=30,
                cost=5000,
            )
    traffic_rollup_rebuild(30)
    # What rating appends for this traffic: the priced daily rows the spend chart reads.
    first = timezone.localdate().replace(day=1)
    with scopes_disabled():
        for back in range((timezone.localdate() - first).days + 1):
            for kind, price in (("sms_out", 4900), ("call", 7500)):
                DailyUsage.objects.create(
                    tenant=tenant, day=first + timedelta(days=back), kind=kind,
                    number=number if kind == "call" else None, events=2, quantity=2,
                    price=price, provider_cost=3500,
                )  # fmt: skip


def _charts(page: Any, url: str, name: str) -> list[dict[str, Any]]:
    results = []
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_function(
            "() => [...document.querySelectorAll('figure.chart')]"
            ".every(f => !f.hasAttribute('aria-busy') && !f.querySelector('figcaption')"
            ".textContent.startsWith('Loading'))"
        )
        found = page.evaluate(DRAWN)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        screenshot(page, f"charts-{name}-{width}")
        results += found
    return results


@pytest.mark.django_db(transaction=True)
def test_charts_draw_with_a_text_alternative(page: Any, live_server: Any, elks: Any) -> None:
    shop = shop_create()
    sign_in(page, live_server.url, shop.owner.email, OWNER_PASSWORD)
    # No traffic yet: every chart says so instead of drawing zeros.
    empty = _charts(page, f"{live_server.url}/t/{shop.tenant.slug}/", "owner-overview-empty")
    assert empty and all(c["empty"] and not c["drawn"] for c in empty)

    number = number_rent_se(shop)
    _seed(shop.tenant, number)
    charts = _charts(page, f"{live_server.url}/t/{shop.tenant.slug}/", "owner-overview")
    assert len(charts) == 6
    assert all(c["drawn"] and c["fits"] and not c["empty"] for c in charts), charts
    assert all(
        c["caption"] == c["label"] and c["caption"].startswith(("Last", "Spent")) for c in charts
    )
    on_number = _charts(
        page, f"{live_server.url}/t/{shop.tenant.slug}/numbers/{number.pk}/", "owner-number"
    )
    assert len(on_number) == 2 and all(c["drawn"] and c["fits"] for c in on_number), on_number
    page.goto(f"{live_server.url}/t/{shop.tenant.slug}/")
    # The range select reloads the period charts.
    page.select_option("select.chart-range", "7")
    page.wait_for_function(
        "() => document.querySelector('figure.chart figcaption').textContent.startsWith('Last 7')"
    )

    staff = StaffFactory()
    staff.set_password(OWNER_PASSWORD)
    staff.save()
    page.context.clear_cookies()
    sign_in(page, live_server.url, staff.email, OWNER_PASSWORD)
    staff_charts = _charts(page, f"{live_server.url}/staff/", "staff-console")
    assert staff_charts and all(c["drawn"] and c["fits"] for c in staff_charts), staff_charts


@pytest.mark.django_db(transaction=True)
def test_usage_and_margin_charts_draw(page: Any, live_server: Any, elks: Any) -> None:
    """The usage page (tenant, staff) and the margin report draw their chart and tables."""
    shop = shop_create()
    number = number_rent_se(shop)
    _seed(shop.tenant, number)
    sign_in(page, live_server.url, shop.owner.email, OWNER_PASSWORD)
    usage = _charts(page, f"{live_server.url}/t/{shop.tenant.slug}/billing/usage/", "owner-usage")
    assert usage and all(c["drawn"] and c["fits"] for c in usage), usage  # both widths
    assert "Provider cost" not in page.content()
    staff = StaffFactory()
    staff.set_password(OWNER_PASSWORD)
    staff.save()
    page.context.clear_cookies()
    sign_in(page, live_server.url, staff.email, OWNER_PASSWORD)
    staff_usage = _charts(
        page, f"{live_server.url}/staff/tenants/{shop.tenant.slug}/usage/", "staff-usage"
    )
    assert staff_usage and all(c["drawn"] and c["fits"] for c in staff_usage), staff_usage
    assert "Provider cost" in page.content()
    margin = _charts(page, f"{live_server.url}/staff/billing/margin/", "staff-margin")
    assert margin and all(c["drawn"] and c["fits"] for c in margin), margin

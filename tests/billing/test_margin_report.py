"""The staff margin report: revenue, provider cost and margin per tenant and month."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage
from billing.ledger.rollup import usage_squash
from billing.periods import previous_period
from billing.usage.selectors import margin_report
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage(world: World) -> tuple[date, date]:
    this = timezone.localdate().replace(day=1)
    last = previous_period(this)
    with scopes_disabled():
        for tenant, month, price, cost in (
            (world.tenant_a, this, 100_0000, 60_0000),
            (world.tenant_a, last, 10_0000, 9_0000),
            (world.tenant_b, this, 40_0000, 10_0000),
        ):
            DailyUsage.objects.create(
                tenant=tenant, day=month.replace(day=2), kind="sms_out", events=1,
                price=price, provider_cost=cost,
            )  # fmt: skip
        usage_squash()  # folded into the daily and monthly rows, as the beat task does
        DailyUsage.objects.create(  # a delta not folded yet counts too
            tenant=world.tenant_a, day=this.replace(day=2), kind="sms_out", events=1,
            price=50_0000, provider_cost=30_0000,
        )  # fmt: skip
    return this, last


def test_rows_per_tenant_and_month_sorted_by_each_column(world: World, usage) -> None:
    this, last = usage
    rows = margin_report(first=last, last=this)
    assert [(r.tenant, r.month, r.revenue, r.cost, r.margin) for r in rows] == [
        ("Acme", this, 150_0000, 90_0000, 60_0000),
        ("Bravo", this, 40_0000, 10_0000, 30_0000),
        ("Acme", last, 10_0000, 9_0000, 1_0000),
    ]
    assert rows[1].margin_percent == "75.0"
    assert [r.tenant for r in margin_report(first=last, last=this, sort="cost")] == [
        "Acme", "Bravo", "Acme",
    ]  # fmt: skip
    assert [r.revenue for r in margin_report(first=last, last=this, sort="-revenue")] == [
        150_0000, 40_0000, 10_0000,
    ]  # fmt: skip
    assert margin_report(first=last, last=this, sort="month")[0].month == last
    assert len(margin_report(first=this, last=this)) == 2


def test_page_chart_and_csv_for_staff_only(world: World, usage) -> None:
    this, last = usage
    staff = client_for(world.staff)
    query = f"from={last:%Y-%m}&to={this:%Y-%m}"
    page = staff.get(f"/staff/billing/margin/?{query}&sort=tenant").content.decode()
    assert page.count("<h1") == 1 and 'aria-sort="ascending"' in page
    assert page.index("Acme") < page.index("Bravo")
    assert "150.00" in page and "90.00" in page and "60.00" in page
    assert "sort=-revenue" in page  # each column sorts
    chart = staff.get(f"/staff/billing/margin/chart.json?{query}").json()
    assert chart["labels"] == [f"{last:%Y-%m}", f"{this:%Y-%m}"]
    assert chart["datasets"][2]["data"] == [1_0000, 90_0000]
    csv = b"".join(staff.get(f"/staff/billing/margin/export.csv?{query}")).decode().splitlines()
    assert csv[0] == "month,tenant,currency,revenue,provider cost,margin,margin %"
    assert f"{this:%Y-%m},Acme,SEK,150.0000,90.0000,60.0000,40.0" in csv
    for user in (world.owner_a, None):
        response = client_for(user).get("/staff/billing/margin/")
        assert response.status_code in (302, 403, 404)


def test_bad_input_never_fails(world: World, usage) -> None:
    staff = client_for(world.staff)
    for query in ("from=x&to=y&sort=drop", "from=2026-99", "sort=-", "to=1900-01&from=2999-01"):
        assert staff.get(f"/staff/billing/margin/?{query}").status_code == 200

"""Usage pages: one spend figure, by kind and number, from the daily rows only; tenants see
their price, staff see price, cost and margin."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.ledger.models import DailyUsage
from billing.ledger.rollup import usage_squash
from billing.models import BillingAccount
from billing.periods import current_period, local_day, previous_period
from billing.selectors import period_usage
from billing.services import account_for
from billing.usage.selectors import parse_period, usage_report
from numbers.models import PhoneNumber
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

# Distinctive figures: a price of 12.34 and a provider cost of 98.77 per event.
PRICE, COST = 123_400, 987_654


def _number(tenant: Tenant, e164: str) -> PhoneNumber:
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant, provider_id=f"n-{e164}", number=e164, country="se",
            status=PhoneNumber.Status.ACTIVE,
        )  # fmt: skip


def _usage(tenant: Tenant, *, days: int = 3, kinds=("sms_out", "sms_in", "call"), number=None):
    """Delta rows as rating appends them, one per day and kind."""
    zone = account_for(tenant).time_zone
    first, today = current_period(zone), local_day(zone)
    with scopes_disabled():
        for i in range(days):
            for kind in kinds:
                DailyUsage.objects.create(
                    tenant=tenant, day=max(first, today - timedelta(days=i)), kind=kind,
                    number=number,
                    events=1, quantity=2, provider_cost=COST, price=PRICE,
                )  # fmt: skip


def test_period_picker_parses_months() -> None:
    current = timezone.localdate().replace(day=1)
    assert parse_period("2020-03", current).isoformat() == "2020-03-01"
    assert parse_period("nonsense", current) == current
    assert parse_period("2020-13", current) == current
    assert parse_period("2999-01", current) == current  # no future periods


def test_report_sums_squashed_and_delta_rows_alike(world: World) -> None:
    tenant = world.tenant_a
    number = _number(tenant, "+46766860001")
    _usage(tenant, number=number)
    current = period_usage(tenant=tenant).period
    before = usage_report(tenant=tenant, period=current, current=current)
    usage_squash()
    _usage(tenant, days=1, kinds=("sms_out",), number=number)  # a fresh delta beside them
    after = usage_report(tenant=tenant, period=current, current=current)
    assert before.total.price == 9 * PRICE and before.total.provider_cost == 9 * COST
    assert after.total.price == 10 * PRICE
    assert [r.key for r in after.by_kind] == ["sms_out", "sms_in", "call"]
    assert after.by_kind[0].events == 4 and after.by_kind[0].quantity == 8
    assert [(r.key, r.price) for r in after.by_number] == [("+46766860001", 10 * PRICE)]
    assert after.total.margin == 10 * (PRICE - COST)


def test_tenant_usage_page_shows_price_only(world: World) -> None:
    tenant = world.tenant_a
    _usage(tenant, number=_number(tenant, "+46766860002"))
    for user in (world.owner_a, world.member_a):
        client = client_for(user)
        page = client.get(f"/t/{tenant.slug}/billing/usage/").content.decode()
        assert page.count("<h1") == 1
        assert "37.02" in page and "111.06" in page  # 3 and 9 x 12.34
        assert "98.77" not in page and "Provider cost" not in page and "Margin" not in page
        chart = client.get(f"/t/{tenant.slug}/billing/usage/chart.json").json()
        assert "Provider cost" not in json.dumps(chart) and str(COST) not in json.dumps(chart)
        assert chart["datasets"][0]["label"] == "SMS sent"
        assert sum(chart["datasets"][0]["data"]) == 3 * PRICE
        csv = b"".join(client.get(f"/t/{tenant.slug}/billing/usage/export.csv")).decode()
        assert "37.0200" in csv and "296.2962" not in csv and "provider cost" not in csv


def test_staff_usage_page_shows_price_cost_and_margin(world: World) -> None:
    tenant = world.tenant_a
    _usage(tenant)
    client = client_for(world.staff)
    page = client.get(f"/staff/tenants/{tenant.slug}/usage/").content.decode()
    assert "37.02" in page and "296.30" in page and "Margin" in page
    assert "Provider&#x27;s figure" in page or "Provider's figure" in page
    chart = client.get(f"/staff/tenants/{tenant.slug}/usage/chart.json").json()
    assert [d["label"] for d in chart["datasets"]][-2:] == ["Provider cost", "Margin"]
    csv = b"".join(client.get(f"/staff/tenants/{tenant.slug}/usage/export.csv")).decode()
    assert "provider cost,margin" in csv.splitlines()[0] and "296.2962" in csv
    # Staff pages are staff's only.
    assert client_for(world.owner_a).get(f"/staff/tenants/{tenant.slug}/usage/").status_code in (
        302,
        403,
        404,
    )


def test_previous_periods_are_offered_and_shown(world: World) -> None:
    tenant = world.tenant_a
    current = period_usage(tenant=tenant).period
    earlier = previous_period(current)
    with scopes_disabled():
        DailyUsage.objects.create(
            tenant=tenant, day=earlier.replace(day=5), kind="number", events=1, quantity=1,
            provider_cost=1, price=555_500,
        )  # fmt: skip
    client = client_for(world.owner_a)
    page = client.get(f"/t/{tenant.slug}/billing/usage/").content.decode()
    assert f'value="{earlier:%Y-%m}"' in page and "55.55" not in page
    page = client.get(f"/t/{tenant.slug}/billing/usage/?period={earlier:%Y-%m}").content.decode()
    assert "55.55" in page and "Numbers" in page


@pytest.mark.parametrize("path", ["/t/{slug}/billing/usage/", "/staff/tenants/{slug}/usage/"])
def test_usage_pages_take_a_fixed_number_of_queries(world: World, path: str) -> None:
    tenant = world.tenant_a
    user = world.staff if path.startswith("/staff") else world.owner_a
    client = client_for(user)
    url = path.format(slug=tenant.slug)
    client.get(url)  # warm the session and account
    counts = []
    for days in (1, 20):
        _usage(tenant, days=days, number=_number(tenant, f"+4676686{days:04d}"))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_usage_page_query_budget(world: World, django_assert_max_num_queries) -> None:
    tenant = world.tenant_a
    _usage(tenant, days=28)
    client = client_for(world.owner_a)
    client.get(f"/t/{tenant.slug}/billing/usage/")
    with django_assert_max_num_queries(12):
        client.get(f"/t/{tenant.slug}/billing/usage/")
    with django_assert_max_num_queries(8):
        client.get(f"/t/{tenant.slug}/billing/usage/chart.json")


def test_one_figure_on_the_overview_billing_page_card_and_staff_console(world: World) -> None:
    tenant = world.tenant_a
    Tenant.objects.filter(pk=tenant.pk).update(usage=4_321_0000)  # 46elks' all-time figure
    account = account_for(tenant)
    BillingAccount.objects.filter(pk=tenant.pk).update(
        monthly_limit=1_000_0000, period_spent=123_4000, reserved=5_0000,
        period_start=current_period(account.time_zone),
    )  # fmt: skip
    owner = client_for(world.owner_a)
    for url in (f"/t/{tenant.slug}/", f"/t/{tenant.slug}/billing/"):
        page = owner.get(url).content.decode()
        assert "128.40" in page and "1 000.00" in page.replace("\u202f", " ")
        assert "4 321" not in page.replace("\u202f", " ") and "All-time" not in page
    card = owner.get(f"/t/{tenant.slug}/billing/usage/card/").content.decode()
    assert 'hx-trigger="every 60s"' in card and "123.40" in card
    staff = client_for(world.staff)
    console = staff.get("/staff/").content.decode().replace("\u202f", " ")
    assert "128.40" in console and "4 321.00" in console and "Provider" in console
    detail = staff.get(f"/staff/tenants/{tenant.slug}/").content.decode().replace("\u202f", " ")
    assert "128.40" in detail and "4 321.00" in detail


def test_prepaid_tenants_see_their_balance(world: World) -> None:
    tenant = world.tenant_a
    account = account_for(tenant)
    BillingAccount.objects.filter(pk=tenant.pk).update(
        mode=BillingAccount.Mode.PREPAID, balance=77_7000, period_spent=2_0000,
        period_start=current_period(account.time_zone),
    )  # fmt: skip
    page = client_for(world.owner_a).get(f"/t/{tenant.slug}/billing/").content.decode()
    assert "Balance" in page and "77.70" in page and "of this month's limit" not in page


def test_overview_spend_chart_is_the_priced_figure(world: World) -> None:
    tenant = world.tenant_a
    _usage(tenant, days=1)
    data = client_for(world.owner_a).get(f"/t/{tenant.slug}/charts/spend.json").json()
    assert data["datasets"][0]["data"][-1] == 3 * PRICE  # cumulative
    assert str(COST) not in json.dumps(data)

"""The rating core: pricing arithmetic, plan versions by day, entries and corrections,
reservations against the limit or the balance."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage, MonthlyUsage, UsageEntry
from billing.ledger.rollup import usage_squash
from billing.ledger.services import UsageEvent, usage_record
from billing.models import BillingAccount, PlanPrice, RatePlan, RatePlanVersion
from billing.plans.pricing import billed_seconds, with_markup
from billing.services import spend_reserve, top_up_record

STHLM = ZoneInfo("Europe/Stockholm")


def test_call_increments() -> None:
    assert billed_seconds(0, first=60, step=60) == 0
    assert billed_seconds(1, first=60, step=60) == 60
    assert billed_seconds(61, first=60, step=60) == 120
    assert billed_seconds(61, first=60, step=1) == 61
    assert billed_seconds(30, first=30, step=6) == 30
    assert billed_seconds(31, first=30, step=6) == 36


def test_markup_rounds_up() -> None:
    assert with_markup(3500, 2500) == 4375
    assert with_markup(1, 2500) == 2  # 1.25 rounds up: never below the rate


@pytest.fixture
def plan(world):
    plan = RatePlan.objects.create(name="Gold")
    old = RatePlanVersion.objects.create(plan=plan, effective_from=date(2000, 1, 1), markup_bp=0)
    PlanPrice.objects.create(version=old, kind="sms_part", country="se", price=5000)
    new = RatePlanVersion.objects.create(
        plan=plan, effective_from=date(2026, 12, 1), markup_bp=1000,
        call_first_seconds=60, call_next_seconds=1, call_connection_fee=1000,
    )  # fmt: skip
    PlanPrice.objects.create(version=new, kind="sms_part", country="se", price=6000)
    PlanPrice.objects.create(version=new, kind="call_minute", country="se", price=12000)
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(plan=plan, monthly_limit=20_000)
    return plan


def test_versions_by_day_never_reprice_the_past(world, plan) -> None:
    nov = datetime(2026, 11, 30, 23, 30, tzinfo=STHLM)
    dec = datetime(2026, 12, 1, 0, 30, tzinfo=STHLM)
    a = world.tenant_a.pk
    one = usage_record(
        tenant_id=a,
        event=UsageEvent(kind="sms_out", source="message:1", occurred_at=nov, to="+46701", parts=2),
    )
    two = usage_record(
        tenant_id=a,
        event=UsageEvent(kind="sms_out", source="message:2", occurred_at=dec, to="+46701", parts=2),
    )
    assert (one.price, two.price) == (10_000, 12_000)
    assert one.estimated and one.provider_cost == 7000
    # The real cost arrives: a correction of the cost, the price stays (listed per part).
    fixed = usage_record(
        tenant_id=a,
        event=UsageEvent(
            kind="sms_out", source="message:1", occurred_at=nov, to="+46701", parts=2,
            provider_cost=6400,
        ),
    )  # fmt: skip
    assert fixed.entry is not None and fixed.entry.seq == 1
    assert (fixed.entry.price, fixed.entry.provider_cost) == (0, -600)
    again = usage_record(
        tenant_id=a,
        event=UsageEvent(
            kind="sms_out", source="message:1", occurred_at=nov, to="+46701", parts=2,
            provider_cost=6400,
        ),
    )  # fmt: skip
    assert again.entry is None  # a replay appends nothing
    with scopes_disabled():
        assert UsageEntry.objects.filter(tenant_id=a).count() == 3


def test_call_is_priced_with_fee_and_increment(world, plan) -> None:
    dec = datetime(2026, 12, 2, 10, tzinfo=STHLM)
    rated = usage_record(
        tenant_id=world.tenant_a.pk,
        event=UsageEvent(
            kind="call", source="call:1", occurred_at=dec, to="+46701", seconds=61,
            provider_cost=2000,
        ),
    )  # fmt: skip
    assert rated.price == 1000 + 61 * 12000 // 60 + (1 if 61 * 12000 % 60 else 0)


def test_entries_are_append_only(world, plan) -> None:
    usage_record(
        tenant_id=world.tenant_a.pk,
        event=UsageEvent(kind="number", source="number:1:2026-12", occurred_at=datetime.now(STHLM),
                         country="se", category="mobile", provider_cost=30000),
    )  # fmt: skip
    with scopes_disabled():
        entry = UsageEntry.objects.get()
        with pytest.raises(TypeError):
            entry.save()
        with pytest.raises(TypeError):
            UsageEntry.objects.update(price=0)
        with pytest.raises(TypeError):
            UsageEntry.objects.all().delete()


def test_reservation_holds_the_limit_and_settles(world, plan) -> None:
    a = world.tenant_a.pk
    assert spend_reserve(tenant_id=a, amount=15_000)
    assert not spend_reserve(tenant_id=a, amount=6_000)
    usage_record(
        tenant_id=a,
        event=UsageEvent(kind="sms_out", source="message:9", occurred_at=datetime.now(STHLM),
                         to="+46701", parts=2, provider_cost=6400),
        release=15_000,
    )  # fmt: skip
    account = BillingAccount.objects.get(pk=a)
    assert account.reserved == 0
    assert account.period_spent in (10_000, 12_000)  # by the version in force today
    assert spend_reserve(tenant_id=a, amount=20_000 - account.period_spent)
    assert not spend_reserve(tenant_id=a, amount=1)


def test_a_new_period_starts_from_zero(world, plan) -> None:
    a = world.tenant_a.pk
    BillingAccount.objects.filter(pk=a).update(period_spent=20_000, period_start=date(2020, 1, 1))
    assert spend_reserve(tenant_id=a, amount=20_000)


def test_prepaid_balance(world, plan) -> None:
    a = world.tenant_a.pk
    BillingAccount.objects.filter(pk=a).update(mode="prepaid", balance=0)
    assert not spend_reserve(tenant_id=a, amount=1)
    top_up_record(tenant=world.tenant_a, amount=10_000, note="Paid", actor=world.staff)
    assert spend_reserve(tenant_id=a, amount=10_000)
    usage_record(
        tenant_id=a,
        event=UsageEvent(kind="sms_out", source="message:7", occurred_at=datetime.now(STHLM),
                         to="+46701", parts=1, provider_cost=3500),
        release=10_000,
    )  # fmt: skip
    account = BillingAccount.objects.get(pk=a)
    assert account.balance in (5_000, 4_000) and account.reserved == 0


def test_squash_keeps_totals(world, plan) -> None:
    now = datetime.now(STHLM)
    for i in range(5):
        usage_record(
            tenant_id=world.tenant_a.pk,
            event=UsageEvent(kind="sms_out", source=f"message:{i}", occurred_at=now,
                             to="+46701", parts=1, provider_cost=3500),
        )  # fmt: skip
    with scopes_disabled():
        before = sum(DailyUsage.objects.values_list("price", flat=True))
        assert usage_squash() == 5
        assert DailyUsage.objects.count() == 1
        row = DailyUsage.objects.get()
        assert (row.price, row.events, row.squashed) == (before, 5, True)
        month = MonthlyUsage.objects.get()
        assert (month.price, month.events, month.period) == (before, 5, row.day.replace(day=1))
    assert usage_squash() == 0
    _ = timedelta


def test_an_mms_is_never_quoted_at_zero_on_a_plan_without_mms_prices(world) -> None:
    """The default plan lists nothing: an MMS is quoted at our estimate of 46elks' cost plus
    the markup, so its reservation holds the limit."""
    from billing.ledger.services import Rater

    quote = Rater().quote(
        tenant_id=world.tenant_a.pk,
        event=UsageEvent(kind="mms_out", source="", occurred_at=datetime.now(STHLM), to="+46701"),
    )
    assert quote.price == with_markup(5000, 2500) and quote.estimated


def test_a_correction_is_filed_where_the_original_is(world, plan) -> None:
    """A later report that names a number the first did not (a campaign send corrected
    through its log row) still corrects the original's row."""
    now = datetime.now(STHLM)
    first = UsageEvent(kind="sms_out", source="recipient:1", occurred_at=now, to="+46701",
                       parts=1)  # fmt: skip
    usage_record(tenant_id=world.tenant_a.pk, event=first)
    later = UsageEvent(kind="sms_out", source="recipient:1", occurred_at=now, to="+46701",
                       parts=1, provider_cost=3000, number_id=999)  # fmt: skip
    fixed = usage_record(tenant_id=world.tenant_a.pk, event=later)
    assert fixed.entry is not None and fixed.entry.number_id is None
    with scopes_disabled():
        assert set(DailyUsage.objects.values_list("number_id", flat=True)) == {None}

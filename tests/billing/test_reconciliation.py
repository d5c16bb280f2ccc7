"""Reconciliation: rated provider cost for a tenant's month against the movement of the
sandbox's `balanceused` since the last snapshot before the month, with a 1% tolerance."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.ledger.services import UsageEvent, usage_record
from billing.models import Reconciliation, StaffAlert, UsageSnapshot
from billing.periods import current_period, period_bounds
from billing.reconciliation import diverges, reconcile_all
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _spend(elks, tenant: Tenant, amount: int) -> None:
    url = f"{elks.control_url}/spend"
    requests.post(
        url, json={"subaccount": tenant.elks_subaccount_id, "amount": amount}
    ).raise_for_status()


def _rate(tenant: Tenant, n: int, cost: int) -> None:
    usage_record(
        tenant_id=tenant.pk,
        event=UsageEvent(
            kind="sms_out", source=f"message:{n}", occurred_at=timezone.now(), to="+46701234567",
            parts=1, provider_cost=cost,
        ),
    )  # fmt: skip


def test_tolerance() -> None:
    assert not diverges(0, 0)
    assert not diverges(100_000, 100_900)  # 0.9%
    assert not diverges(100_000, 101_000)  # exactly 1% of the larger is within
    assert diverges(100_000, 101_100)
    assert diverges(0, 3500)


def test_reconciliation_against_the_sandbox(
    world: World, live_tenant: Tenant, elks, django_capture_on_commit_callbacks
) -> None:
    tenant = live_tenant
    period = current_period("Europe/Stockholm")
    start, _ = period_bounds(period, "Europe/Stockholm")
    # Last month's traffic: 46elks counted 50.00 before this month, and a snapshot saw it.
    _spend(elks, tenant, 500_000)
    Tenant.objects.filter(pk=tenant.pk).update(created=start - timedelta(days=40))
    UsageSnapshot.objects.create(
        tenant=tenant, balanceused=500_000, taken_at=start - timedelta(minutes=10)
    )
    # This month: three messages rated at 46elks' cost, and 46elks counted the same.
    for n in range(3):
        _rate(tenant, n, 3500)
    _spend(elks, tenant, 3 * 3500)

    with django_capture_on_commit_callbacks(execute=True):
        (row,) = reconcile_all()
    assert (row.rated_cost, row.provider_movement, row.diverged) == (10_500, 10_500, False)
    assert row.period == period and not StaffAlert.objects.exists()

    # A deliberate divergence: 46elks charged 10.00 more than anything we rated.
    _spend(elks, tenant, 100_000)
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = reconcile_all()
        reconcile_all()  # a second run the same day writes a row, not a second alert
    assert (row.rated_cost, row.provider_movement, row.diverged) == (10_500, 110_500, True)
    alert = StaffAlert.objects.get(kind=StaffAlert.Kind.RECONCILIATION)
    assert alert.tenant == tenant and alert.detail["provider_movement"] == 110_500
    to_staff = [m for m in mail.outbox if m.to == ["staff@reseller.example"]]
    assert len(to_staff) == 1 and "Taxi Nord" in to_staff[0].body
    page = client_for(world.staff).get("/staff/").content.decode()
    assert "Rated cost diverges from 46elks" in page and "Taxi Nord" in page
    billing = client_for(world.staff).get(f"/staff/billing/tenants/{tenant.slug}/")
    assert "diverged" in billing.content.decode()

    # A correction that brings our figure back within 1% clears it on the next run.
    _rate_correction = UsageEvent(
        kind="sms_out", source="message:0", occurred_at=timezone.now(), to="+46701234567",
        parts=1, provider_cost=3500 + 99_500,
    )  # fmt: skip
    usage_record(tenant_id=tenant.pk, event=_rate_correction)
    (row,) = reconcile_all()
    assert (row.rated_cost, row.diverged) == (110_000, False)
    with scopes_disabled():
        assert Reconciliation.objects.filter(tenant=tenant).count() == 4


def test_no_baseline_is_skipped_not_guessed(world: World, live_tenant: Tenant, elks) -> None:
    period = current_period("Europe/Stockholm")
    start, _ = period_bounds(period, "Europe/Stockholm")
    Tenant.objects.filter(pk=live_tenant.pk).update(created=start - timedelta(days=40))
    _spend(elks, live_tenant, 7000)
    assert reconcile_all() == []
    # A tenant created this month started from 0.
    Tenant.objects.filter(pk=live_tenant.pk).update(created=timezone.now())
    (row,) = reconcile_all()
    assert (row.rated_cost, row.provider_movement, row.diverged) == (0, 7000, True)

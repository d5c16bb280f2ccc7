"""Billing settings, top-ups and limit changes on the staff pages, and the 46elks backstop
they move (billing.backstop), checked against the sandbox's subaccount `usagelimit`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Tenant
from billing.backstop import backstop_raise
from billing.models import BillingAccount, TopUp, UsageSnapshot
from billing.periods import current_period, next_period, period_bounds
from providers.clients import elks_master
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _settings(**over: str) -> dict[str, str]:
    return {
        "mode": "postpaid",
        "monthly_limit": "1000",
        "low_balance": "0",
        "thresholds": "80, 100",
        "vat_percent": "25",
        "time_zone": "Europe/Stockholm",
        "vat_number": "",
        "billing_name": "Taxi Nord AB",
        "billing_address": "Storgatan 1\n90325 Umeå",
        "billing_email": "billing@taxinord.example",
    } | over


def _spend(elks, tenant: Tenant, amount: int) -> int:
    """Past traffic at 46elks (the sandbox's control API)."""
    url = f"{elks.control_url}/spend"
    body = requests.post(url, json={"subaccount": tenant.elks_subaccount_id, "amount": amount})
    body.raise_for_status()
    return int(body.json()["balanceused"])


def _usagelimit(tenant: Tenant) -> int | None:
    return elks_master().subaccount_get(tenant.elks_subaccount_id).usagelimit


def test_backstop_moves_as_documented(world: World, live_tenant: Tenant, elks) -> None:
    tenant, staff = live_tenant, client_for(world.staff)
    account = BillingAccount.objects.get(pk=tenant.pk)
    # Created: the monthly limit here, limit x 1.2 at 46elks (a new subaccount spent nothing).
    assert account.monthly_limit == 10_000_000
    assert _usagelimit(tenant) == 12_000_000 and tenant.usage_limit == 12_000_000

    # 3.00 spent before this period began, and a snapshot of it: B = 30_000.
    period = current_period(account.time_zone)
    start, _ = period_bounds(period, account.time_zone)
    _spend(elks, tenant, 30_000)
    UsageSnapshot.objects.create(
        tenant=tenant, balanceused=30_000, taken_at=start - timedelta(hours=1)
    )
    assert backstop_raise() == 1
    assert _usagelimit(tenant) == 30_000 + 12_000_000

    # Spend inside the period does not move it (B is the period start), nor do reruns.
    used = _spend(elks, tenant, 50_000)
    UsageSnapshot.objects.create(tenant=tenant, balanceused=used, taken_at=timezone.now())
    writes = len(
        elks.api_requests(method="POST", path=f"/a1/subaccounts/{tenant.elks_subaccount_id}")
    )
    assert backstop_raise() == 0
    after = len(
        elks.api_requests(method="POST", path=f"/a1/subaccounts/{tenant.elks_subaccount_id}")
    )
    assert after == writes  # nothing written when nothing moved

    # Next period: B becomes the last snapshot before it (80_000), within the hour.
    following, _ = period_bounds(next_period(period), account.time_zone)
    assert backstop_raise(at=following + timedelta(minutes=5)) == 1
    assert _usagelimit(tenant) == 80_000 + 12_000_000

    # The staff page's limit change: the billing account's limit, the backstop follows.
    response = staff.post(f"/staff/tenants/{tenant.slug}/limit/", {"usage_limit": "2000"})
    assert response.status_code == 302
    assert BillingAccount.objects.get(pk=tenant.pk).monthly_limit == 20_000_000
    assert _usagelimit(tenant) == 30_000 + 24_000_000

    # Prepaid with nothing in the balance: the backstop is B (nothing more may be spent).
    url = f"/staff/billing/tenants/{tenant.slug}/"
    assert staff.post(url + "settings/", _settings(mode="prepaid")).status_code == 302
    assert _usagelimit(tenant) == 30_000
    # A top-up raises it by the top-up x 1.2.
    response = staff.post(url + "top-up/", {"amount": "500", "note": "Invoice 1001 paid"})
    assert response.status_code == 302
    assert _usagelimit(tenant) == 30_000 + 6_000_000
    assert BillingAccount.objects.get(pk=tenant.pk).balance == 5_000_000

    # Suspended: 0 at 46elks and the beat leaves it; reactivated: the rule again.
    staff.post(f"/staff/tenants/{tenant.slug}/suspend/", {"confirm": tenant.name})
    assert _usagelimit(tenant) == 0
    backstop_raise()
    assert _usagelimit(tenant) == 0
    staff.post(f"/staff/tenants/{tenant.slug}/reactivate/", {"confirm": tenant.name})
    assert _usagelimit(tenant) == 30_000 + 6_000_000


def test_refused_backstop_keeps_the_local_limit(world: World, elks) -> None:
    # tenant_a's subaccount does not exist at the sandbox: 46elks answers 404.
    staff = client_for(world.staff)
    response = staff.post(f"/staff/tenants/{world.tenant_a.slug}/limit/", {"usage_limit": "300"})
    assert response.status_code == 400
    assert "The monthly limit is saved, but 46elks refused" in response.content.decode()
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).monthly_limit == 3_000_000
    response = staff.post(
        f"/staff/billing/tenants/{world.tenant_a.slug}/settings/", _settings(monthly_limit="400")
    )
    assert response.status_code == 302
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).monthly_limit == 4_000_000
    page = staff.get(f"/staff/billing/tenants/{world.tenant_a.slug}/").content.decode()
    assert "hourly backstop task will retry" in page


def test_settings_are_saved_and_audited(world: World, elks) -> None:
    staff = client_for(world.staff)
    url = f"/staff/billing/tenants/{world.tenant_b.slug}/settings/"
    data = _settings(
        thresholds="50%, 90, 100, 90",
        time_zone="America/New_York",
        vat_number="DE123456789",
        reverse_charge="on",
        members_see_invoices="on",
    )
    assert staff.post(url, data).status_code == 302
    account = BillingAccount.objects.get(pk=world.tenant_b.pk)
    assert account.alert_thresholds == [50, 90, 100]
    assert account.time_zone == "America/New_York" and account.reverse_charge
    assert account.vat_rate_bp == 0  # reverse charge: no VAT charged
    assert account.billing_name == "Taxi Nord AB" and account.members_see_invoices
    event = AuditEvent.objects.get(action="billing.settings_changed")
    assert event.tenant == world.tenant_b and event.actor == world.staff
    assert event.detail["changed"]["alert_thresholds"] == [[80, 100], [50, 90, 100]]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"thresholds": "80, lots"}, "is not a percentage"),
        ({"thresholds": "0"}, "is not a percentage"),
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"reverse_charge": "on"}, "needs the customer"),
        ({"monthly_limit": "-1"}, "cannot be negative"),
        ({"vat_percent": "150"}, "less than or equal to 100"),
        ({"mode": "credit"}, "Select a valid choice"),
        ({"billing_email": "nope"}, "valid email"),
    ],
)
def test_bad_settings_re_render(world: World, over: dict, message: str) -> None:
    url = f"/staff/billing/tenants/{world.tenant_a.slug}/settings/"
    response = client_for(world.staff).post(url, _settings(**over))
    assert response.status_code == 400 and message in response.content.decode()
    assert not AuditEvent.objects.filter(action="billing.settings_changed").exists()


def test_top_ups_are_prepaid_only_listed_and_audited(world: World) -> None:
    staff = client_for(world.staff)
    url = f"/staff/billing/tenants/{world.tenant_a.slug}/top-up/"
    response = staff.post(url, {"amount": "100", "note": ""})
    assert response.status_code == 400 and "for prepaid tenants" in response.content.decode()
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(mode="prepaid")
    assert staff.post(url, {"amount": "0"}).status_code == 400
    assert staff.post(url, {"amount": "250.50", "note": "Paid by card"}).status_code == 302
    assert staff.post(url, {"amount": "-50", "note": "Correction"}).status_code == 302
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).balance == 2_005_000
    with scopes_disabled():
        assert TopUp.objects.filter(tenant=world.tenant_a).count() == 2
    page = staff.get(f"/staff/billing/tenants/{world.tenant_a.slug}/").content.decode()
    assert "Paid by card" in page and "Correction" in page
    assert AuditEvent.objects.filter(action="billing.top_up").count() == 2
    assert client_for(world.owner_a).post(url, {"amount": "100"}).status_code == 404

"""Spend alerts: once per threshold per period, owners emailed and shown a dismissable banner;
the period resets at the month start in the tenant's time zone; staff alerts on the master
balance (sandbox `GET /a1/me`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django_scopes import scope, scopes_disabled

from accounts.access import TenantAccess
from accounts.models import Membership
from billing.alerts.services import alerts_check, master_balance_check
from billing.models import BillingAccount, BillingAlert, StaffAlert
from billing.selectors import period_usage
from billing.services import spend_reserve, spend_settle
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

STHLM = ZoneInfo("Europe/Stockholm")
NOV = datetime(2026, 11, 20, 12, 0, tzinfo=STHLM)


def _keys(tenant_id: int) -> list[tuple[str, str]]:
    with scopes_disabled():
        return sorted(
            (a.period.isoformat(), a.key) for a in BillingAlert.objects.filter(tenant_id=tenant_id)
        )


@pytest.fixture
def limited(world: World) -> BillingAccount:
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(
        monthly_limit=100_000, period_start=datetime(2026, 11, 1).date(), period_spent=0
    )
    return BillingAccount.objects.get(pk=world.tenant_a.pk)


def test_alerts_fire_once_per_threshold(world: World, limited, django_capture_on_commit_callbacks):
    a = world.tenant_a.pk
    spend_settle(tenant_id=a, price=79_999, release=0, at=NOV)
    assert alerts_check(at=NOV) == []
    spend_settle(tenant_id=a, price=1, release=0, at=NOV)
    with django_capture_on_commit_callbacks(execute=True):
        created = alerts_check(at=NOV)
    assert [x.key for x in created] == ["80"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@acme.example"]  # owners only
    assert "80% of this month's spending limit" in mail.outbox[0].body
    assert "/t/acme/billing/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_check(at=NOV) == []  # once
    spend_settle(tenant_id=a, price=25_000, release=0, at=NOV)  # over 100% (rating overshoots)
    with django_capture_on_commit_callbacks(execute=True):
        assert [x.key for x in alerts_check(at=NOV)] == ["100"]
        assert alerts_check(at=NOV) == []
    assert len(mail.outbox) == 2
    assert _keys(a) == [("2026-11-01", "100"), ("2026-11-01", "80")]
    # Tenant B spent nothing: no alert, no email.
    assert _keys(world.tenant_b.pk) == []


def test_a_unique_row_holds_once_even_when_two_checks_race(world: World, limited) -> None:
    from billing.alerts.services import Crossed, alert_record

    crossed = Crossed(world.tenant_a.pk, datetime(2026, 11, 1).date(), "80", 80_000)
    with scopes_disabled():
        assert alert_record(crossed) is not None
        assert alert_record(crossed) is None


def test_period_resets_at_month_start_in_tenant_time_zone(world: World, limited) -> None:
    a = world.tenant_a.pk
    spend_settle(tenant_id=a, price=90_000, release=0, at=NOV)
    alerts_check(at=NOV)
    # 23:30 on Nov 30 in Stockholm is still November; 00:30 on Dec 1 is December.
    last = datetime(2026, 11, 30, 23, 30, tzinfo=STHLM)
    first = datetime(2026, 12, 1, 0, 30, tzinfo=STHLM)
    assert period_usage(tenant=a, at=last).spent == 90_000
    assert not spend_reserve(tenant_id=a, amount=20_000, at=last)
    assert period_usage(tenant=a, at=first).spent == 0
    assert spend_reserve(tenant_id=a, amount=20_000, at=first)
    # The same instant is still November in New York: the zone decides.
    BillingAccount.objects.filter(pk=a).update(time_zone="America/New_York", reserved=0)
    assert period_usage(tenant=a, at=first).spent == 90_000
    BillingAccount.objects.filter(pk=a).update(time_zone="Europe/Stockholm")
    # December's first settle starts the new period; its alerts are December's own.
    spend_settle(tenant_id=a, price=85_000, release=0, at=first)
    account = BillingAccount.objects.get(pk=a)
    assert account.period_start.isoformat() == "2026-12-01" and account.period_spent == 85_000
    assert [x.key for x in alerts_check(at=first)] == ["80"]
    assert _keys(a) == [("2026-11-01", "80"), ("2026-12-01", "80")]


def test_low_prepaid_balance_alerts_once(world: World, django_capture_on_commit_callbacks):
    a = world.tenant_a.pk
    BillingAccount.objects.filter(pk=a).update(mode="prepaid", balance=60_000, low_balance=50_000)
    assert alerts_check(at=NOV) == []
    spend_settle(tenant_id=a, price=15_000, release=0, at=NOV)
    with django_capture_on_commit_callbacks(execute=True):
        assert [x.key for x in alerts_check(at=NOV)] == ["low_balance"]
        assert alerts_check(at=NOV) == []
    assert "balance is running low" in mail.outbox[0].body


def _banner(world: World, user) -> str:
    request = RequestFactory().get("/t/acme/billing/")
    membership = Membership.objects.get(user=user, tenant=world.tenant_a)
    access = TenantAccess(tenant=world.tenant_a, user=user, membership=membership, staff_view=False)
    context = {"request": request, "tenant": world.tenant_a, "tenant_access": access}
    with scope(tenant=world.tenant_a.pk):
        return render_to_string("billing/_alerts.html", context, request=request)


def test_banner_for_owners_dismissable(world: World, limited) -> None:
    from billing.periods import current_period

    with scopes_disabled():
        alert = BillingAlert.objects.create(
            tenant=world.tenant_a, period=current_period("Europe/Stockholm"), key="80"
        )
    html = _banner(world, world.owner_a)
    assert "80% of this month" in html and "Dismiss" in html
    assert _banner(world, world.member_a).strip() == ""  # owners only

    url = f"/t/acme/billing/alerts/{alert.pk}/dismiss/"
    assert client_for(world.member_a).post(url).status_code == 403
    assert client_for(world.owner_b).post(url).status_code == 404
    # Another tenant's owner, in their own tenant's URL: still 404.
    assert (
        client_for(world.owner_b).post(f"/t/bravo/billing/alerts/{alert.pk}/dismiss/").status_code
        == 404
    )
    assert client_for(world.owner_a).get(url).status_code == 405
    response = client_for(world.owner_a).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert _banner(world, world.owner_a).strip() == ""
    with scopes_disabled():
        alert.refresh_from_db()
    assert alert.dismissed is not None


def test_master_balance_alert(world: World, elks, settings, django_capture_on_commit_callbacks):
    settings.BILLING_MASTER_BALANCE_FLOOR = 5_000_000
    requests.post(f"{elks.control_url}/balance", json={"balance": 9_000_000}).raise_for_status()
    assert master_balance_check() is None
    requests.post(f"{elks.control_url}/balance", json={"balance": 4_000_000}).raise_for_status()
    with django_capture_on_commit_callbacks(execute=True):
        alert = master_balance_check()
        assert master_balance_check() is None  # once a day
    assert alert is not None and alert.detail["balance"] == 4_000_000
    assert mail.outbox[0].to == ["staff@reseller.example"]
    assert "master balance is 400.00" in mail.outbox[0].body

    staff = client_for(world.staff)
    page = staff.get("/staff/").content.decode()
    assert "Master balance low" in page and "Mark handled" in page
    assert (
        client_for(world.owner_a).post(f"/staff/billing/alerts/{alert.pk}/resolve/").status_code
        == 404
    )
    assert staff.post(f"/staff/billing/alerts/{alert.pk}/resolve/").status_code == 302
    assert StaffAlert.objects.get().resolved is not None
    assert "Master balance low" not in staff.get("/staff/").content.decode()


def test_the_minute_check_is_cheap(world: World, django_assert_max_num_queries) -> None:
    from tests.factories import TenantFactory

    tenants = [TenantFactory() for _ in range(30)]
    for n, tenant in enumerate(tenants):
        # Most have spent a little, some have alerted already: none is newly due.
        BillingAccount.objects.filter(pk=tenant.pk).update(
            monthly_limit=100_000, period_spent=1_000 + n, period_start=NOV.date().replace(day=1)
        )
    with django_assert_max_num_queries(2):
        assert alerts_check(at=NOV) == []
    BillingAccount.objects.filter(pk=tenants[0].pk).update(period_spent=85_000)
    # One newly due costs its insert (in a savepoint); the rest stays two queries.
    with django_assert_max_num_queries(5):
        assert len(alerts_check(at=NOV)) == 1
    with django_assert_max_num_queries(2):
        assert alerts_check(at=NOV) == []


def test_beat_tasks_run(world: World, elks, settings) -> None:
    from billing import tasks

    settings.BILLING_MASTER_BALANCE_FLOOR = 0
    assert tasks.alerts_check() == 0
    assert tasks.master_balance_check() is False
    assert tasks.backstop_raise() == 0  # the world's subaccounts are not at the sandbox
    assert tasks.reconcile() == 0

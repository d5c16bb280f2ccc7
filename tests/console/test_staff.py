"""Staff console flows end to end against the 46elks sandbox over HTTP."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.db import connection

from accounts.models import AuditEvent, Membership, OrphanSubaccount, Tenant
from console.tenants import tenant_create
from providers.clients import elks_master
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _create(client, name="Cafe Nord", limit="250.00", email="boss@cafe.example"):
    return client.post(
        "/staff/tenants/new/", {"name": name, "usage_limit": limit, "owner_email": email}
    )


def _subaccount_posts(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/subaccounts"))


def test_create_tenant_end_to_end(world: World, elks) -> None:
    staff = client_for(world.staff)
    response = _create(staff)
    assert response.status_code == 302
    tenant = Tenant.objects.get(name="Cafe Nord")
    assert tenant.status == Tenant.Status.ACTIVE
    # 250.00 SEK in 1/10000 is the monthly limit; 46elks holds the backstop (x1.2) above it.
    assert tenant.billing.monthly_limit == 2_500_000
    assert tenant.usage_limit == 3_000_000
    assert _subaccount_posts(elks) == 1
    sub = elks_master().subaccount_get(tenant.elks_subaccount_id)
    assert sub.usagelimit == 3_000_000 and sub.name == "Cafe Nord"
    assert tenant.elks_secret == sub.secret
    with connection.cursor() as cur:
        cur.execute("SELECT elks_secret FROM accounts_tenant WHERE id=%s", [tenant.pk])
        assert sub.secret not in cur.fetchone()[0]
    membership = Membership.objects.get(tenant=tenant)
    assert membership.role == "owner" and membership.user.email == "boss@cafe.example"
    assert not membership.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/set-password/" in mail.outbox[0].body

    # The set-password link is shown to staff exactly once.
    page = staff.get(response.url).content.decode()
    assert "Set-password link for boss@cafe.example" in page
    assert "/accounts/set-password/" in page
    assert sub.secret not in page
    assert "Set-password link" not in staff.get(response.url).content.decode()
    assert AuditEvent.objects.filter(tenant=tenant, action="tenant.created").count() == 1


def test_provider_refusal_saves_nothing(world: World, elks, settings) -> None:
    settings.ELKS_PASSWORD = "wrong-password"
    response = _create(client_for(world.staff))
    assert response.status_code == 400
    assert "46elks refused to create the subaccount" in response.content.decode()
    assert not Tenant.objects.filter(name="Cafe Nord").exists()
    settings.ELKS_PASSWORD = "sandbox-master-secret"
    assert list(elks_master().subaccounts()) == []


def test_provider_down_is_a_readable_error(world: World, elks) -> None:
    elks.set_chaos(rate=1, mode="503")
    response = _create(client_for(world.staff))
    assert response.status_code == 400
    assert "46elks refused" in response.content.decode()
    assert not Tenant.objects.filter(name="Cafe Nord").exists()


def test_saving_failure_after_acceptance_reports_an_orphan(world, elks, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Membership.objects, "create", broken)
    response = _create(client_for(world.staff))
    assert response.status_code == 400
    orphan = OrphanSubaccount.objects.get()
    assert "database went away" in orphan.reason
    assert orphan.subaccount_id in response.content.decode()
    assert not Tenant.objects.filter(name="Cafe Nord").exists()
    # And the console lists it.
    monkeypatch.undo()
    assert orphan.subaccount_id in client_for(world.staff).get("/staff/").content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "acme"}, "already exists"),
        ({"usage_limit": "-5"}, "cannot be negative"),
        ({"usage_limit": "99999999999"}, "more than 10,000,000"),
        ({"usage_limit": "lots"}, "Enter a number"),
        ({"owner_email": "nope"}, "valid email"),
        ({"owner_email": "staff@reseller.example"}, "staff"),
    ],
)
def test_bad_input_changes_nothing(world: World, elks, data, error) -> None:
    fields = {"name": "Cafe Nord", "usage_limit": "250", "owner_email": "boss@cafe.example"}
    fields.update(data)
    before = Tenant.objects.count()
    response = client_for(world.staff).post("/staff/tenants/new/", fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Tenant.objects.count() == before
    assert _subaccount_posts(elks) == 0


def _real_tenant(world: World) -> Tenant:
    return tenant_create(
        name="Cafe Nord",
        usage_limit=2_500_000,
        owner_email="boss@cafe.example",
        actor=world.staff,
        request=None,
    ).tenant


def test_limit_change_suspend_and_reactivate(world: World, elks) -> None:
    tenant = _real_tenant(world)
    staff = client_for(world.staff)
    slug = tenant.slug

    assert staff.post(f"/staff/tenants/{slug}/limit/", {"usage_limit": "400"}).status_code == 302
    tenant.billing.refresh_from_db()
    assert tenant.billing.monthly_limit == 4_000_000  # the limit is the billing account's
    assert elks_master().subaccount_get(tenant.elks_subaccount_id).usagelimit == 4_800_000

    response = staff.post(f"/staff/tenants/{slug}/limit/", {"usage_limit": "-1"})
    assert response.status_code == 400 and "cannot be negative" in response.content.decode()

    # Suspension asks for the name typed out.
    assert b"Suspend Cafe Nord?" in staff.get(f"/staff/tenants/{slug}/suspend/").content
    response = staff.post(f"/staff/tenants/{slug}/suspend/", {"confirm": "wrong"})
    assert response.status_code == 400
    staff.post(f"/staff/tenants/{slug}/suspend/", {"confirm": "Cafe Nord"})
    tenant.refresh_from_db()
    assert tenant.status == "suspended" and tenant.suspended_usage_limit == 4_800_000
    assert elks_master().subaccount_get(tenant.elks_subaccount_id).usagelimit == 0
    owner = Membership.objects.get(tenant=tenant).user
    assert client_for(owner).get(f"/t/{slug}/").status_code == 302  # signed out

    staff.post(f"/staff/tenants/{slug}/reactivate/", {"confirm": "Cafe Nord"})
    tenant.refresh_from_db()
    assert tenant.status == "active" and tenant.usage_limit == 4_800_000
    assert elks_master().subaccount_get(tenant.elks_subaccount_id).usagelimit == 4_800_000
    assert client_for(owner).get(f"/t/{slug}/").status_code == 200
    actions = list(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert {"tenant.limit_changed", "tenant.suspended", "tenant.reactivated"} <= set(actions)


def test_staff_view_is_bannered_and_recorded(world: World) -> None:
    staff = client_for(world.staff)
    response = staff.post("/staff/tenants/acme/view/")
    assert response.url == "/t/acme/"
    page = staff.get("/t/acme/").content.decode()
    assert "Staff view" in page and "End staff view" in page
    staff.get("/t/acme/members/")
    started = AuditEvent.objects.filter(action="staff_view.started", tenant=world.tenant_a)
    assert started.count() == 1 and started.get().actor == world.staff
    staff.post("/staff/view/end/")
    assert AuditEvent.objects.filter(action="staff_view.ended", tenant=world.tenant_a).count() == 1
    # Customers never see the banner.
    assert "Staff view" not in client_for(world.owner_a).get("/t/acme/").content.decode()


def test_console_lists_tenants_and_balance(world: World, elks) -> None:
    staff = client_for(world.staff)
    page = staff.get("/staff/").content.decode()
    assert "Acme" in page and "Bravo" in page and world.tenant_a.elks_subaccount_id in page
    balance = staff.get("/staff/balance/").content.decode()
    assert "Master account balance" in balance and "SEK" in balance


def test_console_survives_a_slow_provider(world: World, elks) -> None:
    elks.set_chaos(rate=1, mode="timeout", timeout_sleep=3)
    staff = client_for(world.staff)
    started = time.monotonic()
    assert staff.get("/staff/").status_code == 200  # the page itself never waits for 46elks
    balance = staff.get("/staff/balance/").content.decode()
    assert time.monotonic() - started < 2.5
    assert "46elks is not answering" in balance


def test_customers_cannot_reach_the_staff_console(world: World) -> None:
    assert client_for(world.owner_a).get("/staff/").status_code == 404
    assert client_for(None).get("/staff/").status_code == 302

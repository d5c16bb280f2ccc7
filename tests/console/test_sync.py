"""provider_sync against the sandbox: usage and limits, every page, orphans, the lock."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django_scopes import scope

from accounts.models import OrphanSubaccount, Tenant
from billing.models import UsageSnapshot
from billing.selectors import usage_this_month
from console.sync import provider_sync
from console.tasks import provider_sync as provider_sync_task
from console.tenants import tenant_create
from core.locks import skip_if_running
from providers.clients import elks_for_tenant
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _tenant(world: World, name: str, limit: int = 5_000_000) -> Tenant:
    return tenant_create(
        name=name,
        usage_limit=limit,
        owner_email=f"owner@{name.lower().replace(' ', '')}.example",
        actor=world.staff,
        request=None,
    ).tenant


def test_sync_pulls_usage_and_limits_across_pages(world: World, elks) -> None:
    elks.configure(page_size=2)
    tenants = [_tenant(world, f"Shop {n}") for n in range(5)]
    elks_for_tenant(tenants[0]).sms_send(from_="Shop", to="+46700000001", message="hej")
    elks_for_tenant(tenants[0]).sms_send(from_="Shop", to="+46700000002", message="hej")
    # The limit was changed at 46elks directly (e.g. in their dashboard).
    elks.store.execute(
        "UPDATE subaccounts SET usagelimit = ? WHERE id = ?",
        (7_000_000, tenants[1].elks_subaccount_id),
    )

    result = provider_sync()
    assert result.updated == 5 and not result.skipped
    pages = elks.api_requests(method="GET", path="/a1/subaccounts")
    assert len(pages) >= 3  # 5 subaccounts, 2 per page

    tenants[0].refresh_from_db()
    tenants[1].refresh_from_db()
    assert tenants[0].usage == 2 * 3500 and tenants[0].usage_synced_at is not None
    assert tenants[1].usage_limit == 7_000_000
    with scope(tenant=tenants[0].pk):
        assert UsageSnapshot.objects.count() == 1
        assert usage_this_month(tenant=tenants[0]) == 7000


def test_sync_keeps_a_suspended_tenants_limit(world: World, elks) -> None:
    from console.tenants import tenant_suspend

    tenant = _tenant(world, "Sleepy")
    tenant_suspend(tenant=tenant, actor=world.staff, request=None)
    provider_sync()
    tenant.refresh_from_db()
    # The backstop at 46elks when suspended (5_000_000 x 1.2) is kept, not the 0 it holds.
    assert tenant.usage_limit == 0 and tenant.suspended_usage_limit == 6_000_000


def test_unknown_subaccounts_are_reported_as_orphans(world: World, elks) -> None:
    stray = elks.create_subaccount("Made by hand", usagelimit=100)
    result = provider_sync()
    assert result.orphans == [stray["id"]]
    assert OrphanSubaccount.objects.get().subaccount_id == stray["id"]
    provider_sync()  # reported once, not again and again
    assert OrphanSubaccount.objects.count() == 1


def test_overlapping_runs_are_skipped(world: World, elks) -> None:
    with skip_if_running("provider-sync", ttl=60) as held:
        assert held
        assert provider_sync().skipped
        assert elks.api_requests(path="/a1/subaccounts") == []
    assert not provider_sync().skipped  # released afterwards


def test_lock_expires_when_its_holder_dies(world: World, elks) -> None:
    cache.add("lock:provider-sync", "dead-worker", timeout=1)
    assert provider_sync().skipped
    cache.delete("lock:provider-sync")  # what the TTL does after a crash
    assert not provider_sync().skipped


def test_command_and_task_run_the_same_sync(world: World, elks, capsys) -> None:
    _tenant(world, "Cmd")
    call_command("provider_sync")
    assert "Updated 1 tenant(s)" in capsys.readouterr().out
    assert "Updated 1 tenant(s)" in provider_sync_task()


def test_beat_runs_the_sync_every_five_minutes(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["provider-sync"]
    assert entry["task"] == "accounts.tasks.provider_sync"
    assert entry["schedule"].minute == {0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}

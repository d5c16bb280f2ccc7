"""Usage is live: 46elks' last figure plus what was recorded since, refreshed every minute.

The overview, the billing page and the campaign pre-flight read it; the usage refresh keeps
46elks' figure at most a minute old and never releases a campaign reservation twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from billing.ledger.services import UsageEvent, usage_record
from billing.models import UsageSnapshot
from calls.models import Call
from console.sync import provider_sync, usage_refresh
from console.tenants import tenant_create
from messaging.campaigns.selectors import remaining_limit
from messaging.models import Message
from providers.clients import elks_for_tenant
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _message(tenant: Tenant, *, cost: int | None, created, source=Message.Source.DASHBOARD):
    with scopes_disabled():
        return Message.objects.create(
            tenant=tenant,
            direction=Message.Direction.OUT,
            status=Message.Status.SENT,
            source=source,
            ours="Shop",
            other="+46700000001",
            cost=cost,
            created=created,
        )


def _call(tenant: Tenant, *, cost: int | None, created, source=Call.Source.CLICK_TO_CALL):
    with scopes_disabled():
        return Call.objects.create(
            tenant=tenant,
            direction=Call.Direction.OUT,
            ours="+46766861475",
            other="+46700000002",
            source=source,
            cost=cost,
            created=created,
        )


def _subaccount(world: World, name: str, *, limit: int = 5_000_000) -> Tenant:
    """A tenant with a real subaccount at the sandbox."""
    return tenant_create(
        name=name,
        usage_limit=limit,
        owner_email=f"owner@{name.lower()}.example",
        actor=world.staff,
        request=None,
    ).tenant


def test_pre_flight_sees_a_send_as_soon_as_it_is_rated(world: World, elks) -> None:
    """The campaign pre-flight reads the billing account (the tenant's price this period),
    which rating moves in the send's own transaction: no wait for 46elks' figure."""
    tenant = _subaccount(world, "Live", limit=10_000)
    usage_refresh()
    with scope(tenant=tenant.pk):
        assert remaining_limit(tenant) == 10_000
        message = _message(tenant, cost=3_500, created=timezone.now())
        usage_record(
            tenant_id=tenant.pk,
            event=UsageEvent(
                kind="sms_out", source=f"message:{message.pk}", occurred_at=message.created,
                to="+46700000001", provider_cost=3_500,
            ),
        )  # fmt: skip
        assert remaining_limit(tenant) == 10_000 - 4_375  # 46elks' 3500 + 25%


def test_overlapping_refresh_and_sync_snapshot_once(world: World, elks) -> None:
    tenant = _subaccount(world, "Overlap", limit=5_000_000)
    elks_for_tenant(tenant).sms_send(from_="Shop", to="+46700000001", message="hej")
    usage_refresh()
    provider_sync()  # reads the same 46elks figure: nothing new to record
    tenant.refresh_from_db()
    assert tenant.usage == 3_500
    with scope(tenant=tenant.pk):
        assert UsageSnapshot.objects.filter(balanceused=3_500).count() == 1


def test_a_stale_reader_does_not_release_again(world: World, elks, monkeypatch) -> None:
    """Two syncs that read the tenant before either wrote: the second one's write is dropped
    (its snapshot too), so an older figure never lands over a newer one."""
    from console import sync

    tenant = _subaccount(world, "Race", limit=5_000_000)
    elks_for_tenant(tenant).sms_send(from_="Shop", to="+46700000001", message="hej")
    stale = Tenant.objects.get(pk=tenant.pk)  # usage 0, as both runs read it
    usage_refresh()
    real_exclude = Tenant.objects.exclude
    monkeypatch.setattr(
        sync.Tenant.objects, "exclude", lambda *a, **k: _Stale(real_exclude(*a, **k), stale)
    )
    usage_refresh()
    tenant.refresh_from_db()
    assert tenant.usage == 3_500
    with scope(tenant=tenant.pk):
        assert UsageSnapshot.objects.count() == 1  # the stale run wrote nothing


class _Stale:
    """A queryset stand-in that yields the tenant as it was read before the first write."""

    def __init__(self, queryset, stale: Tenant) -> None:
        self.queryset, self.stale = queryset, stale

    def exclude(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter([self.stale])


def test_snapshots_are_kept_once_per_interval(world: World, elks, settings) -> None:
    tenant = _subaccount(world, "Snap", limit=5_000_000)
    settings.USAGE_SNAPSHOT_SECONDS = 300
    usage_refresh()
    usage_refresh()
    with scope(tenant=tenant.pk):
        assert UsageSnapshot.objects.count() == 1
    settings.USAGE_SNAPSHOT_SECONDS = 0
    usage_refresh()
    with scope(tenant=tenant.pk):
        assert UsageSnapshot.objects.count() == 2
    tenant.refresh_from_db()
    assert timezone.now() - tenant.usage_synced_at < timedelta(seconds=5)


def test_beat_refreshes_usage_every_minute(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["usage-refresh"]
    assert entry["task"] == "console.tasks.usage_refresh"
    assert entry["schedule"] == 60.0

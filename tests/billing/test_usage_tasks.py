"""Billing's beat tasks: the usage squash every minute (locked) and the snapshot prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django_scopes import scopes_disabled

from billing import tasks
from billing.ledger.models import DailyUsage
from billing.models import UsageSnapshot
from billing.usage.services import snapshot_prune
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_beat_and_routes(settings) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["usage-squash"] == {
        "task": "billing.tasks.usage_squash",
        "schedule": 60.0,
    }
    assert settings.CELERY_BEAT_SCHEDULE["snapshot-prune"]["task"] == "billing.tasks.snapshot_prune"
    for name in ("billing.tasks.usage_squash", "billing.tasks.snapshot_prune"):
        assert name in settings.CELERY_TASK_ROUTES


def _deltas(world: World, n: int) -> None:
    with scopes_disabled():
        DailyUsage.objects.bulk_create(
            DailyUsage(
                tenant=world.tenant_a, day=datetime(2026, 11, 2).date(), kind="sms_out",
                events=1, quantity=1, price=10, provider_cost=7,
            )
            for _ in range(n)
        )  # fmt: skip


def test_usage_squash_folds_every_delta(world: World, monkeypatch) -> None:
    _deltas(world, 25)
    from billing.ledger import rollup

    real = rollup.usage_squash
    monkeypatch.setattr(rollup, "usage_squash", lambda: real(batch=10))
    assert tasks.usage_squash() == 25
    with scopes_disabled():
        rows = list(DailyUsage.objects.values_list("squashed", "events", "price", "provider_cost"))
    assert rows == [(True, 25, 250, 175)]
    assert tasks.usage_squash() == 0


def test_usage_squash_skips_while_another_run_holds_the_lock(world: World) -> None:
    _deltas(world, 3)
    cache.add("lock:usage-squash", "other", timeout=60)
    try:
        assert tasks.usage_squash() == 0
    finally:
        cache.delete("lock:usage-squash")
    with scopes_disabled():
        assert DailyUsage.objects.filter(squashed=False).count() == 3
    assert tasks.usage_squash() == 3


def test_snapshot_prune_keeps_the_last_of_each_day_after_30_days(world: World) -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    old_day = datetime(2026, 10, 1, tzinfo=UTC)
    recent_day = datetime(2026, 11, 20, tzinfo=UTC)
    with scopes_disabled():
        for tenant in (world.tenant_a, world.tenant_b):
            for day in (old_day, old_day + timedelta(days=1), recent_day):
                for minute in range(0, 24 * 60, 5 * 60):  # every 5 hours
                    UsageSnapshot.objects.create(
                        tenant=tenant,
                        taken_at=day + timedelta(minutes=minute),
                        balanceused=minute,
                    )
        before = UsageSnapshot.objects.count()
        deleted = snapshot_prune(now=now, batch=3)
        kept = UsageSnapshot.objects.filter(taken_at__lt=recent_day).order_by("taken_at")
        # Two tenants, two old days: the last of each day stays, the 20th is untouched.
        assert deleted == before - 4 - 2 * 5
        assert sorted({(s.tenant_id, s.taken_at.hour) for s in kept}) == sorted(
            {(t.pk, 20) for t in (world.tenant_a, world.tenant_b)}
        )
        assert kept.count() == 4
        assert UsageSnapshot.objects.filter(taken_at__gte=recent_day).count() == 10
        assert snapshot_prune(now=now) == 0  # idempotent


def test_snapshot_prune_task_runs_under_its_lock(world: World) -> None:
    with scopes_disabled():
        UsageSnapshot.objects.create(
            tenant=world.tenant_a, taken_at=datetime(2020, 1, 1, 1, tzinfo=UTC), balanceused=1
        )
        UsageSnapshot.objects.create(
            tenant=world.tenant_a, taken_at=datetime(2020, 1, 1, 2, tzinfo=UTC), balanceused=2
        )
    assert tasks.snapshot_prune() == 1

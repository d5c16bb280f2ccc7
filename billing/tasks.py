"""Billing's periodic jobs (beat entries in config/settings/base.py). Thin: lock, call."""

from __future__ import annotations

from celery import shared_task

from core.locks import skip_if_running

# One run folds at most this many batches, so a backlog drains over a few minutes without a
# run outliving its lock.
SQUASH_BATCHES = 25


@shared_task(name="billing.tasks.usage_squash", acks_late=True)
def usage_squash() -> int:
    """Fold the usage delta rows into the squashed daily rows; every minute, one at a time."""
    from billing.ledger.rollup import usage_squash as squash

    folded = 0
    with skip_if_running("usage-squash", ttl=5 * 60) as acquired:
        if not acquired:
            return 0
        for _ in range(SQUASH_BATCHES):
            done = squash()
            folded += done
            if not done:
                break
    return folded


@shared_task(name="billing.tasks.snapshot_prune", acks_late=True)
def snapshot_prune() -> int:
    """Prune 46elks' usage snapshots to one per tenant per day after 30 days; daily."""
    from billing.usage.services import snapshot_prune as prune

    with skip_if_running("snapshot-prune", ttl=60 * 60) as acquired:
        return prune() if acquired else 0


@shared_task(name="billing.tasks.alerts_check", acks_late=True)
def alerts_check() -> int:
    from billing.alerts.services import alerts_check as run
    from core.locks import skip_if_running

    with skip_if_running("billing-alerts", ttl=5 * 60) as acquired:
        return len(run()) if acquired else 0


@shared_task(name="billing.tasks.backstop_raise", acks_late=True)
def backstop_raise() -> int:
    from billing.backstop import backstop_raise as run
    from core.locks import skip_if_running

    with skip_if_running("billing-backstop", ttl=30 * 60) as acquired:
        return run() if acquired else 0


@shared_task(name="billing.tasks.master_balance_check", acks_late=True)
def master_balance_check() -> bool:
    from billing.alerts.services import master_balance_check as run

    return run() is not None


@shared_task(name="billing.tasks.reconcile", acks_late=True)
def reconcile() -> int:
    from billing.reconciliation import reconcile_all
    from core.locks import skip_if_running

    with skip_if_running("billing-reconcile", ttl=60 * 60) as acquired:
        return len(reconcile_all()) if acquired else 0

"""Billing's periodic jobs (beat entries in config/settings/base.py). Thin: lock, call."""

from __future__ import annotations

from celery import shared_task


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

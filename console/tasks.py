"""The console's periodic jobs."""

from __future__ import annotations

from celery import shared_task


# The task keeps the name it had under accounts/: beat entries and messages already queued
# under that name keep working across the deploy (routes and beat in config/settings/base.py).
@shared_task(name="accounts.tasks.provider_sync", acks_late=True)
def provider_sync() -> str:
    from console.sync import provider_sync as run

    return str(run())


@shared_task(acks_late=True)
def usage_refresh() -> str:
    from console.sync import usage_refresh as run

    return str(run())


@shared_task(name="console.tasks.traffic_rollup", acks_late=True)
def traffic_rollup() -> int:
    from console.traffic.services import traffic_rollup_recent
    from core.locks import skip_if_running

    with skip_if_running("traffic-rollup", ttl=5 * 60) as acquired:
        return traffic_rollup_recent() if acquired else 0

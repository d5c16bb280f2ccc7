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

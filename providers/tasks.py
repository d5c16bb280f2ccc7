from datetime import timedelta

from celery import shared_task


@shared_task(name="providers.tasks.webhooks_drain", acks_late=True)
def webhooks_drain(window: str | None = None) -> int:
    """Woken by a stored event (providers.wake); looks until its wake window has closed."""
    from providers.services import webhooks_drain as drain

    return drain(window=window)


@shared_task(name="providers.tasks.webhooks_replay", acks_late=True)
def webhooks_replay() -> int:
    """Beat: process events left pending for over a minute (broker or worker was down)."""
    from providers.services import webhooks_drain as drain

    return drain(older_than=timedelta(minutes=1), limit=5000)

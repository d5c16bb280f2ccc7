from datetime import timedelta

from celery import shared_task


@shared_task(name="providers.tasks.webhooks_drain", acks_late=True)
def webhooks_drain() -> int:
    from providers.services import webhooks_drain as drain

    return drain()


@shared_task(name="providers.tasks.webhooks_replay", acks_late=True)
def webhooks_replay() -> int:
    """Beat: process events left pending for over a minute (broker or worker was down)."""
    from providers.services import webhooks_drain as drain

    return drain(older_than=timedelta(minutes=1), limit=5000)

from celery import shared_task


@shared_task(name="numbers.tasks.quarantine_expire", acks_late=True)
def quarantine_expire() -> int:
    from numbers.services import quarantine_expire as run

    return run()


@shared_task(name="numbers.tasks.number_months", acks_late=True)
def number_months() -> int:
    from numbers.billing import number_months_rate

    return number_months_rate()

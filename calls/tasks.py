from celery import shared_task

from accounts.tasks import TenantTask


@shared_task(base=TenantTask, name="calls.tasks.recording_download", bind=True)
def recording_download(self: TenantTask, *, tenant_id: int, recording_id: int) -> bool:
    from calls.recordings import recording_download as run

    return run(recording_id=recording_id)


@shared_task(name="calls.tasks.recordings_due")
def recordings_due() -> int:
    from calls.recordings import recordings_due as run

    return run()


@shared_task(name="calls.tasks.recordings_retention")
def recordings_retention() -> int:
    from calls.recordings import recordings_retention as run

    return run()


@shared_task(name="calls.tasks.history_sync")
def history_sync() -> str:
    from calls.sync import calls_sync_all

    return calls_sync_all()

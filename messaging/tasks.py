"""Thin Celery tasks for messaging; the work is in services, inbound and sync."""

from __future__ import annotations

from celery import shared_task

from accounts.tasks import TenantTask


@shared_task(base=TenantTask, name="messaging.tasks.messages_send", bind=True)
def messages_send(self: TenantTask, *, tenant_id: int, message_ids: list[int]) -> int:
    from messaging.services import message_send

    for message_id in message_ids:
        message_send(message_id=message_id)
    return len(message_ids)


@shared_task(name="messaging.tasks.outbox_sweep")
def outbox_sweep() -> int:
    """Beat: send what stayed queued (its enqueue was lost)."""
    from messaging.sync import outbox_sweep as run

    return run()


@shared_task(name="messaging.tasks.messages_recover")
def messages_recover() -> str:
    """Beat: take back dead workers' claims and settle lost answers (messaging.lifecycle)."""
    from core.locks import skip_if_running
    from messaging.lifecycle import messages_recover as run

    with skip_if_running("messages_recover", ttl=300) as mine:
        return str(run()) if mine else "Skipped: another recover is running."


@shared_task(name="messaging.tasks.history_sync")
def history_sync() -> str:
    from messaging.sync import history_sync_all

    return history_sync_all()


@shared_task(name="messaging.tasks.retention")
def retention() -> int:
    from messaging.sync import retention_apply

    return retention_apply()


@shared_task(name="messaging.tasks.customer_webhooks_due")
def customer_webhooks_due() -> int:
    """Inbound-message deliveries, then event deliveries (and whendelivered reports)."""
    from messaging.customer_webhooks.endpoints import event_deliveries_send_due
    from messaging.customer_webhooks.services import deliveries_send_due

    return deliveries_send_due() + event_deliveries_send_due()


@shared_task(base=TenantTask, name="messaging.tasks.mms_images_fetch", bind=True, max_retries=3)
def mms_images_fetch(self: TenantTask, *, tenant_id: int, message_id: int) -> int:
    """Fetch soon after the MMS arrives; transient failures retry here with the images' own
    backoff, and whatever this task loses is picked up by ``mms_images_sweep``."""
    from messaging.sync import MmsImagesPending
    from messaging.sync import mms_images_fetch as run

    try:
        return run(message_id=message_id)
    except MmsImagesPending as exc:
        if self.request.retries >= (self.max_retries or 0):
            return 0  # the sweep continues from here
        raise self.retry(countdown=exc.delay.total_seconds() + 1) from exc


@shared_task(name="messaging.tasks.mms_images_sweep")
def mms_images_sweep() -> int:
    """Beat: download MMS images still missing and due (lost or failed fetch tasks)."""
    from core.locks import skip_if_running
    from messaging.sync import mms_images_sweep as run

    with skip_if_running("mms_images_sweep", ttl=600) as mine:
        return run() if mine else 0


@shared_task(base=TenantTask, name="messaging.tasks.contact_import_run", bind=True)
def contact_import_run(self: TenantTask, *, tenant_id: int, import_id: int) -> int:
    from messaging.contacts.imports import import_run

    return import_run(import_id=import_id)


@shared_task(
    base=TenantTask,
    name="messaging.tasks.campaign_run",
    bind=True,
    soft_time_limit=300,  # the worker loop stops itself at 240 s
    time_limit=330,
)
def campaign_run(self: TenantTask, *, tenant_id: int, campaign_id: int) -> int:
    from messaging.campaigns.services import campaign_run as run

    return run(campaign_id=campaign_id)


@shared_task(name="messaging.tasks.campaigns_tick")
def campaigns_tick() -> int:
    """Beat: start due campaigns, resume after quiet hours, settle stale sends."""
    from messaging.campaigns.services import campaigns_tick as run

    return run()


@shared_task(name="messaging.tasks.imports_sweep")
def imports_sweep() -> int:
    """Beat: re-enqueue imports left queued (their enqueue was lost to a broker outage)."""
    from datetime import timedelta

    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from messaging.contacts.imports import import_enqueue
    from messaging.contacts.models import ContactImport

    with scopes_disabled():
        stale = list(
            ContactImport.objects.filter(
                status=ContactImport.Status.QUEUED,
                created__lt=timezone.now() - timedelta(minutes=2),
            )
        )
    for item in stale:
        with scope(tenant=item.tenant_id):
            import_enqueue(tenant_id=item.tenant_id, import_id=item.pk)
    return len(stale)

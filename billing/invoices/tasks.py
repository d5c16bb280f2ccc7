"""The monthly drafting job (beat `invoice-drafting`)."""

from __future__ import annotations

from celery import shared_task

from core.locks import skip_if_running


@shared_task(acks_late=True)
def invoices_draft_due() -> str:
    """Draft last month's invoices and statements; a second run at once is skipped, and a
    later one drafts nothing new."""
    from billing.invoices.services import invoices_draft_due as draft

    with skip_if_running("invoice-drafting", ttl=30 * 60) as mine:
        if not mine:
            return "skipped: another run holds the lock"
        report = draft()
    return f"{report.period:%Y-%m}: {report.drafted} drafted, {report.existing} already there"

"""46elks delivery reports for campaign sends (`cdlr` events), many at a time.

Reports are applied in arrival order: a report moves a recipient out of sending, sent or
unknown only, so `sent` never overwrites `delivered` and the first final report wins. One
locked lookup for the batch's recipients, one UPDATE per new status, and the log's Messages
moved forward in one UPDATE per status (messaging.campaigns.log mirrors the rest). The
one-event handler is a batch of one.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from messaging.campaigns.log import MIRRORED, campaign_message_record
from messaging.campaigns.models import CampaignRecipient
from messaging.models import Message
from providers.events import Failures, PayloadError, one_of_batch, require
from providers.models import WebhookEvent

Status = CampaignRecipient.Status
# The states a report moves a recipient from, and where each report status moves it.
OPEN = [Status.SENDING, Status.SENT, Status.UNKNOWN]
MOVES: dict[str, str | None] = {
    "delivered": Status.DELIVERED,
    "failed": Status.FAILED,
    "sent": None,
}
NO_RECIPIENT = "the report matches no campaign recipient"


def campaign_reports_batch(events: list[WebhookEvent], failures: Failures) -> None:
    wanted: list[tuple[WebhookEvent, str, str]] = []
    for event in events:
        try:
            elks_id, status = require(event.payload, "id", "status")
            if status not in MOVES:
                raise PayloadError(f'unknown status "{status}"')
        except PayloadError as exc:
            failures.fail(event, f"Invalid payload: {exc}")
            continue
        target = MOVES[status]
        if target is not None:  # "sent" moves nothing: the send already recorded it
            wanted.append((event, elks_id, target))
    if not wanted:
        return
    # Locked for the batch: the statuses read here are the ones the UPDATEs below move from.
    recipients = {
        r.elks_id: r
        for r in CampaignRecipient.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(elks_id__in={elks_id for _, elks_id, _ in wanted})
        .order_by("pk")
    }
    moved: dict[str, list[int]] = {Status.DELIVERED: [], Status.FAILED: []}
    for event, elks_id, target in wanted:
        recipient = recipients.get(elks_id)
        if recipient is None or recipient.tenant_id != event.tenant_id:  # as the scoped lookup
            failures.fail(event, f"Invalid payload: {NO_RECIPIENT}")
            continue
        token = event.payload.get("_token")
        if recipient.campaign.callback_token != token or recipient.status not in OPEN:
            continue
        recipient.status = target
        moved[target].append(recipient.pk)
    now = timezone.now()
    for target, pks in moved.items():
        if not pks:
            continue
        delivered = target == Status.DELIVERED
        CampaignRecipient.objects.filter(pk__in=pks, status__in=OPEN).update(
            status=target,
            delivered_at=now if delivered else None,
            error="" if delivered else "Not delivered",
        )
        _log_forward(target, pks, now)


def _log_forward(target: str, pks: list[int], now: datetime) -> None:
    """Move the recipients' Messages in the log forward; record the ones not logged yet."""
    logged = set(
        Message.objects.filter(campaign_recipient_id__in=pks).values_list(
            "campaign_recipient_id", flat=True
        )
    )
    status = MIRRORED[Status(target)]
    recipient = CampaignRecipient.objects.filter(pk=OuterRef("campaign_recipient_id"))
    Message.objects.filter(
        campaign_recipient_id__in=logged, status__in=Message.statuses_below(status)
    ).update(
        status=status,
        cost=Subquery(recipient.values("cost")[:1]),
        price=Subquery(recipient.values("price")[:1]),
        error=Subquery(recipient.values("error")[:1]),
        sent_at=Subquery(recipient.values("sent_at")[:1]),
        delivered_at=Subquery(recipient.values("delivered_at")[:1]),
        failed_at=now if status == Message.Status.FAILED else None,
        updated=now,
    )
    for pk in pks:
        if pk not in logged:
            campaign_message_record(recipient_id=pk)


def campaign_delivery_report(event: WebhookEvent) -> None:
    one_of_batch(campaign_reports_batch, event)

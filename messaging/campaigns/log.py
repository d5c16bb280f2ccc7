"""Campaign sends in the message log: one Message per campaign recipient that reached 46elks.

The campaign engine keeps its own rows (CampaignRecipient: claims, leases, reconciliation);
the log and its CSV show Messages. So that every message the tenant pays for is in the log,
whoever sent it, this module mirrors a recipient onto a Message once 46elks has answered:

- Exactly once: Message.campaign_recipient is unique. A repeated call, two workers, or a
  delivery report racing the send's own call find that row instead of adding another.
- Forward only: the mirror moves the Message to a later status only (Message.RANK), so a
  call that read an older state of the recipient cannot undo a delivery report.
- What is mirrored: sent, delivered, failed and unknown (maybe accepted, maybe charged). A
  skipped recipient (opted out) was never sent; a pending or sending one is not yet.
- Never in the way: the mirror must not stop a campaign, so a database error here is logged,
  and `campaign_messages_backfill` (run when a campaign completes) records what was missed.

Campaign Messages belong to no conversation: a campaign to 10,000 people must not push
10,000 threads to the top of the inbox.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from messaging.text import sms_size
from numbers.models import PhoneNumber

log = logging.getLogger(__name__)

# Recipient status → the status of its Message in the log.
MIRRORED = {
    CampaignRecipient.Status.SENT: Message.Status.SENT,
    CampaignRecipient.Status.DELIVERED: Message.Status.DELIVERED,
    CampaignRecipient.Status.FAILED: Message.Status.FAILED,
    CampaignRecipient.Status.UNKNOWN: Message.Status.UNKNOWN,
}


def campaign_message_record(
    *, recipient_id: int | None = None, elks_id: str | None = None
) -> Message | None:
    """Record (or move forward) the log's Message of one campaign recipient, found by id or
    by 46elks' message id. Returns the Message, or None when there is nothing to log."""
    recipients = CampaignRecipient.objects.select_related("campaign")
    if recipient_id is not None:
        recipient = recipients.filter(pk=recipient_id).first()
    else:
        recipient = recipients.filter(elks_id=elks_id).first() if elks_id else None
    if recipient is None or recipient.status not in MIRRORED:
        return None
    try:
        # Its own savepoint: a failure here leaves a caller's transaction (the report
        # handler's) usable. A report finds the Message there; a send's own call creates it.
        with transaction.atomic():
            return _record(recipient, existing_first=recipient_id is None)
    except DatabaseError:
        log.exception("Could not log campaign recipient %s; the backfill will", recipient.pk)
        return None


def campaign_messages_backfill(*, campaign: Campaign) -> int:
    """Log the campaign's sent, failed or unknown recipients that have no Message yet (a
    worker died between storing 46elks' answer and logging it). Returns how many."""
    missing = list(
        CampaignRecipient.objects.filter(
            campaign=campaign, status__in=list(MIRRORED), log_message__isnull=True
        ).values_list("pk", flat=True)
    )
    return sum(campaign_message_record(recipient_id=pk) is not None for pk in missing)


def _record(recipient: CampaignRecipient, *, existing_first: bool) -> Message:
    status = MIRRORED[CampaignRecipient.Status(recipient.status)]
    fields = _mirror(recipient, status)
    try:
        return _upsert(recipient, status, fields, existing_first=existing_first)
    except IntegrityError:
        # 46elks' history sync imported this very send first (same elks_id): one row stays.
        _merge_history_twin(recipient)
        return _upsert(recipient, status, fields, existing_first=True)


def _upsert(
    recipient: CampaignRecipient, status: str, fields: dict[str, object], *, existing_first: bool
) -> Message:
    if existing_first and (found := _move(recipient, status, fields)) is not None:
        return found
    return _create(recipient, fields)


def _mirror(recipient: CampaignRecipient, status: str) -> dict[str, object]:
    now = timezone.now()
    return {
        "status": status,
        "elks_id": recipient.elks_id or None,
        "cost": recipient.cost,
        "price": recipient.price,
        "error": recipient.error,
        "sent_at": recipient.sent_at,
        "delivered_at": recipient.delivered_at,
        "failed_at": now if status == Message.Status.FAILED else None,
        "updated": now,  # what the log's live poll looks for
    }


def _move(recipient: CampaignRecipient, status: str, fields: dict[str, object]) -> Message | None:
    """The existing Message, moved forward where it is behind."""
    with transaction.atomic():
        Message.objects.filter(
            campaign_recipient=recipient, status__in=Message.statuses_below(status)
        ).update(**fields)
    return Message.objects.filter(campaign_recipient=recipient).first()


def _create(recipient: CampaignRecipient, fields: dict[str, object]) -> Message:
    campaign = recipient.campaign
    try:
        with transaction.atomic():
            return Message.objects.create(
                tenant_id=recipient.tenant_id,
                kind=Message.Kind.SMS,
                direction=Message.Direction.OUT,
                source=Message.Source.CAMPAIGN,
                campaign_recipient=recipient,
                number=PhoneNumber.objects.filter(
                    tenant_id=recipient.tenant_id, number=campaign.sender
                ).first(),
                ours=campaign.sender,
                other=recipient.phone,
                body=recipient.body,
                parts=sms_size(recipient.body).parts if recipient.body else None,
                sender_id=campaign.created_by_id,
                # When the send began: 46elks' history matches an unknown send by this time.
                created=recipient.claimed_at or recipient.sent_at or timezone.now(),
                **fields,
            )
    except IntegrityError:
        # Another call logged this recipient first: that row, brought forward.
        found = _move(recipient, str(fields["status"]), fields)
        if found is None:
            raise  # not a race on this recipient: an elks_id clash, for the caller
        return found


def _merge_history_twin(recipient: CampaignRecipient) -> None:
    """The history sync's copy of this send (source `history`, no recipient) becomes the
    campaign's Message, or is dropped when the campaign already has its own."""
    if not recipient.elks_id:
        return
    twin = Message.objects.filter(elks_id=recipient.elks_id, campaign_recipient=None)
    if Message.objects.filter(campaign_recipient=recipient).exists():
        twin.delete()
    else:
        twin.update(
            campaign_recipient=recipient, source=Message.Source.CAMPAIGN, updated=timezone.now()
        )

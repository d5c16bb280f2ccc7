"""Campaigns and their recipients (imported by models.py)."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User
from messaging.contacts.models import Contact, ContactList


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class Campaign(TenantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        LAUNCHING = "launching", "Preparing recipients"
        RUNNING = "running", "Sending"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class QuietZone(models.TextChoices):
        TENANT = "tenant", "The account's time zone"
        RECIPIENT = "recipient", "Each recipient's time zone"

    name = models.CharField(max_length=120)
    sender = models.CharField(max_length=20, help_text="A number of yours (E.164) or a sender id.")
    lists = models.ManyToManyField(ContactList, related_name="campaigns", blank=True)
    template = models.TextField(help_text="Placeholders: {first_name}, {first_name|there}.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    pause_reason = models.CharField(max_length=300, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=50, default="Europe/Stockholm")
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    quiet_zone = models.CharField(
        max_length=10, choices=QuietZone.choices, default=QuietZone.TENANT
    )
    rate = models.PositiveIntegerField(default=5, help_text="Messages per second.")
    # Delivery reports for this campaign's sends come to a URL carrying this token.
    callback_token = models.CharField(max_length=64, unique=True, default=_new_token)
    recipient_count = models.PositiveIntegerField(default=0)
    estimated_cost = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due")]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(TenantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNKNOWN = "unknown", "Unknown (no answer from 46elks)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL)
    phone = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    body = models.TextField(blank=True, help_text="The text as sent.")
    elks_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    cost = models.BigIntegerField(null=True, blank=True)
    # The tenant's price of this send so far (its usage entries, source `recipient:<pk>`).
    price = models.BigIntegerField(null=True, blank=True)
    reserved = models.BigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Committed just before the provider call: a claimed row without it was never sent and
    # is simply re-queued when its worker dies; only rows with it can need 46elks' history.
    attempted_at = models.DateTimeField(null=True, blank=True)
    # Quiet hours in the recipient's zone: not claimed before this time.
    not_before = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "phone"], name="recipient_once")]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="recipient_queue"),
            models.Index(fields=["status", "claimed_at"], name="recipient_stale"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.phone}"

    @property
    def price_pending(self) -> bool:
        """Accepted and 46elks has not reported its cost yet: the price is missing or an
        estimate that may still change."""
        return self.cost_pending

    @property
    def cost_pending(self) -> bool:
        """Sent, and 46elks has not reported its cost yet (None is unknown; 0 is a real 0)."""
        return self.cost is None and self.status in COST_EXPECTED


# Statuses in which 46elks has accepted a recipient's SMS, so a cost is to come.
COST_EXPECTED = (CampaignRecipient.Status.SENT, CampaignRecipient.Status.DELIVERED)

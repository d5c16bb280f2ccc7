"""Contacts, lists, CSV imports, campaigns and their recipients (imported by models.py)."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class Contact(TenantOwned):
    phone = models.CharField(max_length=20, help_text="E.164")
    name = models.CharField(max_length=150, blank=True)
    fields = models.JSONField(default=dict, blank=True, help_text="Custom fields for templates.")
    # Mirrors the opt-out ledger (messaging.OptOut) so sends can skip with one indexed filter.
    opted_out = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phone"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "phone"], name="contact_phone_unique")
        ]
        indexes = [models.Index(fields=["tenant", "-created", "-id"], name="contact_recent")]

    def __str__(self) -> str:
        return self.name or self.phone

    def template_values(self) -> dict[str, str]:
        first, _, last = self.name.partition(" ")
        values = {"phone": self.phone, "name": self.name, "first_name": first, "last_name": last}
        values.update({str(k): str(v) for k, v in (self.fields or {}).items()})
        return values


class ContactList(TenantOwned):
    name = models.CharField(max_length=100)
    contacts = models.ManyToManyField(Contact, through="ContactListMember", related_name="lists")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="contact_list_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ContactListMember(models.Model):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact_list", "contact"], name="list_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.contact_list_id}"


class ContactImport(TenantOwned):
    """A CSV upload: mapped, then imported by a task that reports progress and rejects."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="column index → field")
    default_country = models.CharField(max_length=2, default="SE")
    target_list = models.ForeignKey(ContactList, null=True, blank=True, on_delete=models.SET_NULL)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.original_name or f"import {self.pk}"


class ImportRejection(TenantOwned):
    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="rejections"
    )
    row_number = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"


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

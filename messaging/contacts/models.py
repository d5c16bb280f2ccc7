"""Contacts, contact lists, and CSV imports with their rejected rows.

Registered under the `messaging` app label by the import block at the end of messaging/models.py.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User


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

"""Sender names a tenant asked for, and the global deny list (imported by messaging/models.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import TenantOwned, User


class SenderName(TenantOwned):
    """One request for a text sender name, and staff's decision on it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN = (Status.PENDING, Status.APPROVED)

    name = models.CharField(max_length=11)
    # name_key(name): a tenant has at most one open (pending or approved) row per name.
    key = models.CharField(max_length=11, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    purpose = models.CharField(
        max_length=300, blank=True, help_text="Why the tenant sends from this name."
    )
    decision_reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key"],
                condition=Q(status__in=["pending", "approved"]),
                name="sender_name_open_once",
            )
        ]
        indexes = [models.Index(fields=["status", "created"], name="sender_name_review")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class DeniedSenderName(models.Model):
    """A name no tenant may send from (banks, public bodies, carriers): global, staff-edited."""

    term = models.CharField(max_length=60, unique=True)
    exact = models.BooleanField(
        default=False,
        help_text="Refuse only this exact name (after folding case, accents and punctuation), "
        "not every name that contains it. For short terms such as “Tre” or “SEB”.",
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]
        verbose_name = "denied sender name"

    def __str__(self) -> str:
        return self.term

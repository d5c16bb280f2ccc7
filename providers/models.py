"""Raw provider callbacks, stored before anything else happens to them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WebhookEvent(models.Model):
    """One callback as received: the source of truth until it is processed.

    Unique on (provider, kind, dedupe_key) so a replay stores nothing new. `dedupe_key` is the
    provider's id, plus the status for delivery reports (one row per message and status); an
    event without an id is keyed on a SHA-256 of its URL path and raw body
    (providers.callbacks), so only an identical replay is a duplicate.
    `payload` is the parsed form as PostgreSQL can store it (NUL → U+FFFD); `raw_body` keeps
    the bytes as they came.
    Not tenant-scoped on purpose: ingestion runs before any tenant is known to be involved;
    `tenant` is filled from the number the URL token belongs to.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=10)
    kind = models.CharField(max_length=20)
    dedupe_key = models.CharField(max_length=200)
    # No database constraints on these two: the raw store must never refuse an event because
    # its number was deleted a moment ago, and the constraint's check locked the (hot) tenant
    # and number rows on every INSERT. Processing re-reads both; Django still nulls them on
    # delete.
    tenant = models.ForeignKey(
        "accounts.Tenant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    number = models.ForeignKey(
        "numbers.PhoneNumber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    payload = models.JSONField()
    raw_body = models.BinaryField(default=b"", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # After a transient error (database, network) a pending event waits until then.
    next_attempt = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    received = models.DateTimeField(default=timezone.now)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "kind", "dedupe_key"], name="webhook_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received"], name="webhook_pending"),
            # The processing rate on the staff page reads the last minutes of `processed`;
            # pending and failed rows (NULL) stay out of it.
            models.Index(
                fields=["processed"],
                name="webhook_processed",
                condition=models.Q(processed__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.kind}:{self.dedupe_key}"

    @property
    def raw_text(self) -> str:
        """The raw body for reading: UTF-8, other bytes as escapes."""
        return bytes(self.raw_body).decode("utf-8", "backslashreplace")

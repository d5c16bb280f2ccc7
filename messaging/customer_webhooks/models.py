"""A tenant's webhook signing secret and the deliveries of inbound messages to its URLs.

Registered under the `messaging` app label by the import block at the end of messaging/models.py.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned
from core.crypto import EncryptedTextField
from numbers.models import PhoneNumber


class CustomerWebhook(TenantOwned):
    """Signing secret for posting inbound SMS to a tenant's own webhook URLs."""

    # Fernet-encrypted at rest (FIELD_ENCRYPTION_KEY); pages show them only masked.
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True, default="")
    rotated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="customer_webhook_one")]

    def __str__(self) -> str:
        return f"Webhook secret of {self.tenant_id}"


class WebhookDelivery(TenantOwned):
    """One inbound SMS posted to a customer's webhook: attempts until 2xx or 24 hours."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "url"], name="delivery_once_per_url")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt"], name="delivery_due"),
            # The per-number log on the number's page: newest first, keyset-paginated.
            models.Index(fields=["number", "-created", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.url}"

"""A tenant's webhook signing secret, the deliveries of inbound messages to its URLs, and the
event endpoints with their deliveries (message, call, recording and opt-out events, and the
`whendelivered` reports of messages sent through the API).

Registered under the `messaging` app label by the import block at the end of messaging/models.py.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User
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


class Attempted(TenantOwned):
    """A post to a customer's URL, attempted until it answers 2xx or the retry window ends.

    The fields the shared claim, backoff and give-up in services.py read and write.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    url = models.URLField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class WebhookDelivery(Attempted):
    """One inbound SMS posted to a customer's webhook: attempts until 2xx or 24 hours."""

    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.CASCADE, related_name="deliveries"
    )

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


class Event(models.TextChoices):
    """What an endpoint may subscribe to (docs/webhooks.md describes each payload)."""

    MESSAGE_SENT = "message.sent", "message.sent: 46elks accepted an outgoing message"
    MESSAGE_DELIVERED = "message.delivered", "message.delivered: delivered to the phone"
    MESSAGE_FAILED = "message.failed", "message.failed: could not be sent or delivered"
    CALL_COMPLETED = "call.completed", "call.completed: a call ended"
    VOICEMAIL_RECEIVED = "voicemail.received", "voicemail.received: someone left a voicemail"
    RECORDING_READY = "recording.ready", "recording.ready: a recording can be downloaded"
    OPTOUT_CHANGED = "optout.changed", "optout.changed: a number opted out or back in"


# Not subscribable: the "send test event" button, and a message's own `whendelivered` URL.
EVENT_TEST = "webhook.test"
EVENT_WHENDELIVERED = "whendelivered"


class WebhookEndpoint(TenantOwned):
    """A customer URL that receives the events it subscribes to, signed like inbound SMS."""

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event names, a subset of Event.")
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["tenant", "active"], name="endpoint_active")]

    def __str__(self) -> str:
        return self.url


class EventDelivery(Attempted):
    """One event posted to one URL: an endpoint's JSON event, or (without an endpoint) the
    form-encoded delivery report of a message's `whendelivered` URL.

    `key` names the change (event and object, e.g. `message.delivered:41`): unique per endpoint
    (per tenant for whendelivered posts), so a replayed provider callback inserts nothing.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="event_delivery_once"),
            models.UniqueConstraint(
                fields=["tenant", "key"],
                condition=models.Q(endpoint=None),
                name="whendelivered_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt"], name="event_delivery_due"),
            # The endpoint's log: newest first, keyset-paginated.
            models.Index(fields=["endpoint", "-created", "-id"], name="event_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.url}"

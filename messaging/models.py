"""Messages (SMS and MMS, in and out), conversations, opt-outs and per-tenant settings.

Money (`cost`) is in 46elks' unit, 1/10000 of the currency. A Conversation row is kept per
(tenant number, other party) so the inbox is a keyset scan, not a GROUP BY over millions.
"""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User
from numbers.models import PhoneNumber

DEFAULT_STOP_WORDS = "STOP,STOPP,AVSLUTA,UNSUBSCRIBE"
DEFAULT_START_WORDS = "START"
# What staff may raise a tenant's parts limit to (a 40-part SMS is ~6,000 characters).
MAX_SMS_PARTS_CEILING = 40


def new_token() -> str:
    return secrets.token_urlsafe(24)


class MessagingSettings(TenantOwned):
    """A tenant's messaging preferences (one row per tenant, created on first use)."""

    default_country = models.CharField(
        max_length=2, default="SE", help_text="For numbers typed in national format."
    )
    time_zone = models.CharField(
        max_length=50, default="Europe/Stockholm", help_text="For schedules and quiet hours."
    )
    stop_words = models.CharField(max_length=300, default=DEFAULT_STOP_WORDS)
    start_words = models.CharField(max_length=300, default=DEFAULT_START_WORDS)
    # The one message an opting-out sender may still get; empty: none (and nothing after).
    stop_reply = models.CharField(max_length=480, blank=True, default="")
    dontlog = models.BooleanField(
        default=False, help_text="Keep message text out of 46elks' logs (dontlog=message)."
    )
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank message text older than this. Empty: keep."
    )
    # One click never sends a novel: longer texts are refused. Staff may raise it.
    max_sms_parts = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SMS_PARTS_CEILING)],
        help_text="Longest SMS (in parts) that may be sent from this account.",
    )
    history_synced_until = models.DateTimeField(null=True, blank=True)
    mms_history_synced_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="messaging_settings_one")]

    def __str__(self) -> str:
        return f"Messaging settings of {self.tenant_id}"

    @staticmethod
    def _words(value: str) -> set[str]:
        return {w.strip().upper() for w in value.split(",") if w.strip()}

    @property
    def stop_set(self) -> set[str]:
        return self._words(self.stop_words)

    @property
    def start_set(self) -> set[str]:
        return self._words(self.start_words)


class Conversation(TenantOwned):
    """The thread between one of the tenant's senders and one other party."""

    ours = models.CharField(max_length=20, help_text="Our number (E.164) or sender id.")
    other = models.CharField(max_length=20, help_text="The other party, E.164.")
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_preview = models.CharField(max_length=120, blank=True)
    last_direction = models.CharField(max_length=3, blank=True)
    unread = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "ours", "other"], name="conversation_unique")
        ]
        indexes = [
            models.Index(fields=["tenant", "-last_message_at", "-id"], name="conversation_inbox"),
            models.Index(fields=["tenant", "-updated"], name="conversation_changes"),
        ]

    def __str__(self) -> str:
        return f"{self.ours} ↔ {self.other}"


class Message(TenantOwned):
    class Kind(models.TextChoices):
        SMS = "sms", "SMS"
        MMS = "mms", "MMS"

    class Direction(models.TextChoices):
        IN = "in", "Incoming"
        OUT = "out", "Outgoing"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        CREATED = "created", "Accepted"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown (no answer)"
        RECEIVED = "received", "Received"

    class Source(models.TextChoices):
        """What caused the message; the log groups these (selectors.LOG_SOURCES)."""

        DASHBOARD = "dashboard", "Manual (dashboard)"
        INBOUND = "inbound", "Inbound"
        FORWARD = "forward", "Forwarded"
        AUTOREPLY = "autoreply", "Automatic reply"  # the STOP confirmation included
        CAMPAIGN = "campaign", "Campaign"
        API = "api", "API"
        HISTORY = "history", "46elks history"

    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.SMS)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DASHBOARD)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL)
    ours = models.CharField(max_length=20)
    other = models.CharField(max_length=20)
    body = models.TextField(blank=True)
    # Sent through the API: the customer's own `whendelivered` URL (46elks' delivery-report
    # shape is posted there), and `dontlog` (the text is blanked once sent, as at 46elks).
    # Database defaults too: rows written by older code (data migrations) get them.
    whendelivered = models.URLField(max_length=500, blank=True, default="", db_default="")
    dontlog = models.BooleanField(default=False, db_default=False)
    body_blanked = models.BooleanField(default=False)
    flash = models.BooleanField(default=False)
    # Ask 46elks for delivery reports (whendelivered); on unless the sender turned it off.
    delivery_report = models.BooleanField(default=True)
    elks_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    cost = models.BigIntegerField(null=True, blank=True)
    # The tenant's price of this message so far (the sum of its usage entries; campaign
    # sends: their recipient's). None: not rated (not accepted by 46elks yet, or free).
    price = models.BigIntegerField(null=True, blank=True)
    # The estimated price reserved on the billing account while the send is in flight;
    # back to 0 when rating settles it or a refusal releases it (messaging.rating). A
    # database default too: rows written by older code (data migrations) get 0.
    reserved = models.BigIntegerField(default=0, db_default=0)
    parts = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # One row per (submitted form, recipient): a retried send finds its row instead of sending.
    request_key = models.UUIDField(null=True, blank=True)
    # whendelivered URLs carry this token, so a report finds its message without trusting ids.
    callback_token = models.CharField(max_length=64, unique=True, default=new_token)
    sender = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    # A campaign send's Message (see messaging.campaigns.log): unique, so one recipient is
    # logged once however often its send is recorded.
    campaign_recipient = models.OneToOneField(
        "messaging.CampaignRecipient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="log_message",
    )
    # The send lifecycle (messaging.lifecycle): the worker's lease on its claim, renewed
    # while it works, and when the provider call began. A lease not renewed in time belongs
    # to a dead worker: never attempted → queued again; attempted → settled from history.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key", "other"], name="message_send_once_per_request"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created", "-id"], name="message_log"),
            models.Index(fields=["tenant", "source", "-created", "-id"], name="message_log_source"),
            models.Index(fields=["conversation", "-created", "-id"], name="message_thread"),
            models.Index(fields=["conversation", "-updated"], name="message_thread_changes"),
            models.Index(fields=["tenant", "-updated"], name="message_changes"),
            models.Index(fields=["status", "created"], name="message_outbox"),
            # The recover beat job: expired leases and unknown sends only (a small index).
            models.Index(
                fields=["status", "claimed_at"],
                name="message_in_flight",
                condition=models.Q(status__in=["sending", "unknown"]),
            ),
            models.Index(fields=["number", "-created"], name="message_by_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind} {self.ours}↔{self.other}"

    @property
    def cost_pending(self) -> bool:
        """Sent, and its cost not reported yet (None is unknown; 0 is a real zero)."""
        return (
            self.cost is None
            and self.direction == self.Direction.OUT
            and self.status in COST_EXPECTED
        )

    @property
    def price_pending(self) -> bool:
        """Accepted and 46elks has not reported its cost yet: the price is missing or an
        estimate that may still change (the `{% cost %}` tag shows it as pending)."""
        return self.cost_pending

    # Outbound statuses only move forward; a late or repeated report cannot undo a final one.
    RANK = {
        Status.QUEUED: 0,
        Status.SENDING: 1,
        Status.UNKNOWN: 1,
        Status.CREATED: 2,
        Status.SENT: 3,
        Status.DELIVERED: 4,
        Status.FAILED: 4,
    }

    @classmethod
    def statuses_below(cls, status: str) -> list[str]:
        rank = cls.RANK[cls.Status(status)]
        return [s for s, r in cls.RANK.items() if r < rank]


# Statuses in which 46elks has accepted an outgoing message, so a cost is to come.
COST_EXPECTED = frozenset({Message.Status.CREATED, Message.Status.SENT, Message.Status.DELIVERED})


class MessageImage(TenantOwned):
    """An MMS image, stored here and served only to the owning tenant (or to 46elks by token)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="mms/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=50, blank=True)
    size = models.PositiveIntegerField(default=0)
    source_url = models.URLField(max_length=500, blank=True)
    # Inbound: the 46elks image id and file type taken from the callback (the URL itself is
    # kept for reference only; downloads are built from the API base and this id).
    elks_image_id = models.CharField(max_length=80, blank=True)
    file_type = models.CharField(max_length=4, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_token)
    downloaded = models.DateTimeField(null=True, blank=True)
    # Set only when we gave up on the download: the image is then shown as lost.
    error = models.TextField(blank=True)
    # Download retries (inbound): the beat sweep fetches what is due until it gives up.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt"],
                name="mmsimage_download_due",
                condition=models.Q(downloaded=None, error=""),
            )
        ]

    def __str__(self) -> str:
        return self.file.name or self.source_url


class OptOut(TenantOwned):
    """The ledger: every opt-out and opt-in, with the message that caused it."""

    class Kind(models.TextChoices):
        OUT = "out", "Opted out"
        IN = "in", "Opted in"

    phone = models.CharField(max_length=20)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL)
    word = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["tenant", "phone", "-created"], name="optout_lookup")]

    def __str__(self) -> str:
        return f"{self.phone} {self.kind}"


# The sub-domains' models live in their subpackages (messaging/contacts/, campaigns/, ...).
# Django registers a model when its module is imported and gives it the app label of the app
# whose package contains it, so importing them here keeps them in the `messaging` app (same
# tables, same migrations) and loaded with it. At the end so that a sub-domain model module
# importing from this one finds it complete.
from messaging.campaigns.models import Campaign, CampaignRecipient  # noqa: E402
from messaging.contacts.models import (  # noqa: E402
    Contact,
    ContactImport,
    ContactList,
    ContactListMember,
    ImportRejection,
)
from messaging.customer_webhooks.models import (  # noqa: E402
    CustomerWebhook,
    EventDelivery,
    WebhookDelivery,
    WebhookEndpoint,
)
from messaging.senders.models import DeniedSenderName, SenderName  # noqa: E402

__all__ = [
    "Campaign",
    "CampaignRecipient",
    "Contact",
    "ContactImport",
    "ContactList",
    "ContactListMember",
    "Conversation",
    "CustomerWebhook",
    "DeniedSenderName",
    "EventDelivery",
    "ImportRejection",
    "Message",
    "MessageImage",
    "MessagingSettings",
    "OptOut",
    "SenderName",
    "WebhookDelivery",
    "WebhookEndpoint",
]

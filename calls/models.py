"""Calls in and out, their recordings and voicemail, and voicemail greetings.

Costs are integers in 46elks' unit (1/10000 of the currency). Recordings live at 46elks for
72 hours only, so each is a row that a task keeps trying to download until it has the file.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned, User
from numbers.models import PhoneNumber


def new_token() -> str:
    return secrets.token_urlsafe(24)


class CallSettings(TenantOwned):
    recording_retention_days = models.PositiveIntegerField(
        default=90, help_text="Recording audio older than this is deleted; the call stays."
    )
    calls_synced_until = models.DateTimeField(null=True, blank=True)
    recordings_synced_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="call_settings_one")]

    def __str__(self) -> str:
        return f"Call settings of {self.tenant_id}"


class Greeting(TenantOwned):
    """A voicemail greeting; 46elks fetches it from a public URL carrying `public_token`."""

    name = models.CharField(max_length=80)
    file = models.FileField(upload_to="greetings/%Y/%m/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(default=0)
    public_token = models.CharField(max_length=64, unique=True, default=new_token)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name


class Call(TenantOwned):
    class Direction(models.TextChoices):
        IN = "in", "Incoming"
        OUT = "out", "Outgoing"

    class State(models.TextChoices):
        QUEUED = "queued", "Placing…"
        ONGOING = "ongoing", "Ongoing"
        SUCCESS = "success", "Answered"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Not answered"
        UNKNOWN = "unknown", "Unknown (no answer from 46elks)"

    class Source(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        CLICK_TO_CALL = "click", "Click-to-call"
        HISTORY = "history", "46elks history"

    elks_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ONGOING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.INBOUND)
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL)
    ours = models.CharField(max_length=20, help_text="The tenant's number.")
    other = models.CharField(max_length=20, help_text="The other party.")
    agent_phone = models.CharField(
        max_length=20, blank=True, help_text="Click-to-call: the user's phone."
    )
    placed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    request_key = models.UUIDField(null=True, blank=True, unique=True)
    created = models.DateTimeField(default=timezone.now)
    start = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    cost = models.BigIntegerField(null=True, blank=True)
    # The tenant's price (all legs, corrections included): what tenant pages show, never cost.
    price = models.BigIntegerField(null=True, blank=True)
    # Click-to-call: the spend reserved before 46elks was asked, released when it is rated.
    reserved = models.BigIntegerField(default=0)
    legs = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created", "-id"], name="call_log"),
            models.Index(fields=["tenant", "-updated"], name="call_changes"),
            models.Index(fields=["number", "-created"], name="call_by_number"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} call {self.ours}↔{self.other}"

    @property
    def cost_pending(self) -> bool:
        """Answered or still going, and 46elks has not reported the cost yet."""
        return self.cost is None and self.state in (
            self.State.ONGOING,
            self.State.SUCCESS,
            self.State.UNKNOWN,
        )

    @property
    def price_pending(self) -> bool:
        """Not rated yet but it will be (the call is going, or its cost is to come)."""
        return self.price is None and (
            self.state in (self.State.QUEUED, self.State.ONGOING) or self.cost_pending
        )

    @property
    def outcome(self) -> str:
        """What happened, in the caller's words. 46elks reports `success` whenever it answered
        the call itself, so a call whose forwards were all busy and that ended in voicemail is
        a "success" there; the actions and legs tell what the caller got."""
        if self.state != self.State.SUCCESS:
            return self.get_state_display()
        steps = [a for a in self.actions if isinstance(a, dict)]
        forwards = [a for a in steps if "connect" in a]
        reached = any(a.get("result") == "success" for a in forwards) or any(
            isinstance(leg, dict) and leg.get("state") == "success" for leg in self.legs
        )
        if forwards and not reached:
            return "Voicemail" if any("record" in a for a in steps) else "Missed (no one answered)"
        return "Answered"


class Recording(TenantOwned):
    class Kind(models.TextChoices):
        VOICEMAIL = "voicemail", "Voicemail"
        CALL = "call", "Call recording"

    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings"
    )
    callid = models.CharField(max_length=64)
    elks_id = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    duration = models.PositiveIntegerField(default=0)
    wav_url = models.URLField(max_length=500, blank=True)
    file = models.FileField(upload_to="recordings/%Y/%m/", blank=True)
    size = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    downloaded = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    alerted = models.DateTimeField(null=True, blank=True, help_text="Staff told it is missing.")
    heard = models.DateTimeField(null=True, blank=True)
    audio_deleted = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["downloaded", "next_attempt"], name="recording_due"),
            models.Index(fields=["tenant", "kind", "heard"], name="recording_unheard"),
        ]

    def __str__(self) -> str:
        return self.elks_id

"""Phone numbers rented from 46elks or Infobip, their routing, prices and history.

A number belongs to one tenant for its whole life (46elks numbers cannot move between
subaccounts). Releasing is two-step: quarantine (routing stops, restorable) and, when the
quarantine ends, deactivation at the provider, which is irreversible.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import Tenant, TenantOwned, User


def new_hook_token() -> str:
    return secrets.token_urlsafe(24)


class Provider(models.TextChoices):
    ELKS = "elks", "46elks"
    INFOBIP = "infobip", "Infobip"


class Category(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    FIXED = "fixed", "Fixed line"


class NumberPolicy(models.Model):
    """Platform-wide number settings that staff edit (a single row)."""

    quarantine_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days a released number can still be restored."
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "number policy"

    def __str__(self) -> str:
        return f"Quarantine {self.quarantine_days} days"

    @classmethod
    def current(cls) -> NumberPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class NumberPrice(models.Model):
    """The catalogue of numbers offered, by country and category, with 46elks' monthly cost.

    A country and category is offered to tenants only if it has a row here. The tenant's price
    is its plan's (billing.plans): the plan's listed number-month price for the country and
    category, else the plan's markup over `monthly_price`, else `monthly_price` itself. So a
    plan with no number prices sells at this list, as before plans existed.
    """

    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2, lower case.")
    category = models.CharField(max_length=10, choices=Category.choices)
    currency = models.CharField(max_length=3, default="SEK")
    monthly_price = models.BigIntegerField(help_text="1/10000 of the currency unit.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "category", "currency"], name="number_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_price__gte=0), name="number_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.upper()} {self.category}: {self.monthly_price} {self.currency}"


class PhoneNumber(TenantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", "Renting…"
        ACTIVE = "active", "Active"
        QUARANTINED = "quarantined", "Quarantined"
        RELEASING = "releasing", "Releasing…"
        RELEASED = "released", "Released"
        UNASSIGNED = "unassigned", "Unassigned"

    # Null only for numbers found at a provider that no tenant is known for (staff assign).
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT)
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.ELKS)
    # NULL until the provider answers: unique only among real ids.
    provider_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    number = models.CharField(max_length=20, blank=True, help_text="E.164")
    country = models.CharField(max_length=2)
    category = models.CharField(max_length=10, choices=Category.choices, default=Category.MOBILE)
    has_sms = models.BooleanField(default=False)
    has_mms = models.BooleanField(default=False)
    has_voice = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    label = models.CharField(max_length=50, blank=True)
    note = models.TextField(blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    # 46elks' monthly cost of the number as known at rental (the catalogue's NumberPrice, or
    # 46elks' allocation answer): the provider cost of each number-month. Staff only; the
    # tenant's price comes from its plan (numbers.billing).
    monthly_price = models.BigIntegerField(null=True, blank=True)
    # The first month's price reserved before 46elks is asked, released once it is rated.
    reserved = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="SEK")

    # Idempotency of rental: one row per submitted form.
    request_key = models.UUIDField(null=True, blank=True, unique=True)
    last_error = models.TextField(blank=True)

    # Callback URLs carry this token; the previous one keeps working for a short overlap.
    hook_token = models.CharField(max_length=64, unique=True, default=new_hook_token)
    previous_hook_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    previous_hook_token_until = models.DateTimeField(null=True, blank=True)

    # Routing: inbound SMS (always kept in the inbox) ...
    sms_forward_to = models.CharField(max_length=20, blank=True)
    sms_webhook_url = models.URLField(max_length=500, blank=True)
    sms_autoreply_enabled = models.BooleanField(default=False)
    sms_autoreply_text = models.CharField(max_length=480, blank=True)
    # ... and inbound calls: [{"to": "+46...", "timeout": 20}, ...] tried in order.
    voice_forwards = models.JSONField(default=list, blank=True)
    voicemail_enabled = models.BooleanField(default=False)
    # None: the built-in greeting. A string FK to calls.Greeting, read by calls.routing: kept
    # here rather than moved to a calls-side table, which would cost a data migration and a
    # join on voice_start (answered in the request) for no change in behaviour; numbers'
    # code imports nothing from calls for it.
    voicemail_greeting = models.ForeignKey(
        "calls.Greeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    record_calls = models.BooleanField(default=False)

    # What the provider held at the last sync when it differed from ours (drift).
    provider_drift = models.JSONField(null=True, blank=True)

    created = models.DateTimeField(default=timezone.now)
    allocated_at = models.DateTimeField(null=True, blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_until = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_id"], name="number_provider_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created", "-id"], name="number_tenant_keyset"),
            models.Index(fields=["status", "quarantine_until"], name="number_quarantine_due"),
            models.Index(fields=["number"], name="number_e164"),
        ]

    def __str__(self) -> str:
        return self.number or f"(pending {self.country.upper()})"

    @property
    def capabilities(self) -> list[str]:
        return [
            c
            for c, on in (("sms", self.has_sms), ("mms", self.has_mms), ("voice", self.has_voice))
            if on
        ]

    @property
    def is_routable(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_restorable(self) -> bool:
        return self.status == self.Status.QUARANTINED


class NumberEvent(TenantOwned):
    """The history of one number; kept after release."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT)
    number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.action}"

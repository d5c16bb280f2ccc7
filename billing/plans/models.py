"""Rate plans: what the reseller charges a tenant, versioned by the date a price takes effect.

A plan has versions; a version holds every price and takes effect on its `effective_from` day
(in the tenant's billing time zone). An event is rated by the version in force on the day it
happened, so a new version never reprices the past. A version that is in force (or was) is
never edited: staff add a new one. Money is in 1/10000 of the plan's currency.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class RatePlan(models.Model):
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="SEK")
    is_default = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="rate_plan_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RatePlanVersion(models.Model):
    plan = models.ForeignKey(RatePlan, on_delete=models.CASCADE, related_name="versions")
    effective_from = models.DateField(help_text="First day (tenant's time zone) it applies.")
    # Over provider cost for anything without a listed price, in basis points (2500 = 25%).
    # None: an unlisted event is charged at provider cost.
    markup_bp = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    # Calls: the first `call_first_seconds` are billed as a block, then blocks of
    # `call_next_seconds` (60/60 bills whole minutes, 60/1 a first minute then per second).
    call_first_seconds = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    call_next_seconds = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    call_connection_fee = models.PositiveBigIntegerField(default=0)
    # Inbound messages are free unless the plan charges for them (flat, any origin).
    sms_in_price = models.PositiveBigIntegerField(default=0)
    mms_in_price = models.PositiveBigIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "effective_from"], name="rate_plan_version_unique_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} from {self.effective_from}"


class PriceKind(models.TextChoices):
    SMS_PART = "sms_part", "SMS part"
    MMS = "mms", "MMS"
    CALL_MINUTE = "call_minute", "Call minute"
    NUMBER_MONTH = "number_month", "Number per month"


class PlanPrice(models.Model):
    """One listed price of a version: by destination country (ISO alpha-2, lower case) and,
    for numbers, category. An empty country is the price for every unlisted country."""

    version = models.ForeignKey(RatePlanVersion, on_delete=models.CASCADE, related_name="prices")
    kind = models.CharField(max_length=14, choices=PriceKind.choices)
    country = models.CharField(max_length=2, blank=True)
    category = models.CharField(max_length=10, blank=True)
    price = models.PositiveBigIntegerField(help_text="1/10000 of the currency unit.")

    class Meta:
        ordering = ["kind", "country", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "country", "category"], name="plan_price_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.country or '*'} {self.category}: {self.price}"

"""API keys, a tenant's API limits, the request log and stored idempotent answers.

A key is a public id (the HTTP Basic user, like a 46elks subaccount id) and a secret shown
once. Only a SHA-256 of the secret is kept: the secrets are 256 random bits, so a slow
password hash would add milliseconds to every request and no protection.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Tenant, TenantOwned, User


class Scope(models.TextChoices):
    SEND = "send", "Send messages and run campaigns"
    READ = "read", "Read messages, calls, recordings, contacts and usage"
    NUMBERS = "numbers", "Read numbers and change their routing"
    CALLS = "calls", "Place calls"


class ApiKey(TenantOwned):
    key_id = models.CharField(max_length=40, unique=True)
    secret_hash = models.CharField(max_length=64)
    # The first characters of the secret, shown in lists so a key can be recognised.
    secret_prefix = models.CharField(max_length=8)
    label = models.CharField(max_length=80)
    scopes = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class ApiKeyAddress(models.Model):
    """Each address a key was used from: the first use from a new one is audited."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="addresses")
    ip = models.GenericIPAddressField()
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "ip"], name="api_key_address_once")]

    def __str__(self) -> str:
        return f"{self.key_id} from {self.ip}"


class ApiSettings(TenantOwned):
    """A tenant's API limits (set by staff) and the owner's choice about members."""

    # One row per tenant, reached from the key in the same query (select_related).
    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="api_settings")
    key_rate = models.PositiveIntegerField(
        default=10, help_text="Requests per second allowed to each key."
    )
    key_burst = models.PositiveIntegerField(default=20, help_text="Short bursts above the rate.")
    tenant_rate = models.PositiveIntegerField(
        default=20, help_text="Requests per second allowed to all of the tenant's keys together."
    )
    tenant_burst = models.PositiveIntegerField(default=40)
    members_see_keys = models.BooleanField(
        default=False, help_text="Members may see (not create or revoke) the API keys."
    )

    def __str__(self) -> str:
        return f"API settings of {self.tenant_id}"


class ApiRequest(TenantOwned):
    """One API request: what, how it ended and how long it took. Bodies are never stored."""

    key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()
    latency_ms = models.PositiveIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created", "-id"], name="api_request_log")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class IdempotentRequest(models.Model):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries for 24 h."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: a key reused for another request is refused.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "idempotency_key"], name="idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.idempotency_key}"

"""Users, tenants and memberships, plus the base for every tenant-owned model.

Money fields (`usage_limit`, `usage`) are integers in 46elks' unit: 1/10000 of the tenant's
currency. Templates format them; code never converts them to floats.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from core.crypto import EncryptedTextField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None gives an unusable password: set via the link
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address.

    Staff (`is_staff`) run the reseller and belong to no tenant; customers reach their
    tenants through `Membership`.
    """

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(
        max_length=20, blank=True, help_text="Your own phone (E.164), used for click-to-call."
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Tenant(models.Model):
    """A customer of the reseller, mapped to one 46elks subaccount."""

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROVISIONING)
    elks_subaccount_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    elks_secret = EncryptedTextField(blank=True, default="")
    usage_limit = models.BigIntegerField(help_text="In 1/10000 of the currency unit.")
    # While suspended the provider limit is 0; the limit to restore is kept here.
    suspended_usage_limit = models.BigIntegerField(null=True, blank=True)
    usage = models.BigIntegerField(default=0, help_text="Last synced spend, 1/10000 units.")
    usage_synced_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="SEK")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tenant_name_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(usage_limit__gte=0), name="tenant_usage_limit_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tenant__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class TenantOwned(models.Model):
    """Base for every model that belongs to a tenant.

    Its default manager is scoped (django-scopes): a query outside `scope(tenant=...)` raises
    `ScopeError` instead of silently returning every tenant's rows. Requests under `/t/<slug>/`
    run inside the tenant's scope (see `accounts.middleware`), Celery tasks re-enter it through
    `accounts.tasks.TenantTask`, and staff code that really means "all tenants" says so with
    `scopes_disabled()`.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what to which tenant: staff actions and staff views of a portal."""

    class Action(models.TextChoices):
        TENANT_CREATED = "tenant.created", "Tenant created"
        TENANT_LIMIT_CHANGED = "tenant.limit_changed", "Usage limit changed"
        TENANT_SUSPENDED = "tenant.suspended", "Tenant suspended"
        TENANT_REACTIVATED = "tenant.reactivated", "Tenant reactivated"
        TENANT_CLOSED = "tenant.closed", "Tenant closed"
        STAFF_VIEW_STARTED = "staff_view.started", "Staff view started"
        STAFF_VIEW_ENDED = "staff_view.ended", "Staff view ended"
        MEMBER_INVITED = "member.invited", "Member invited"
        MEMBER_REMOVED = "member.removed", "Member removed"
        ORPHAN_SUBACCOUNT = "provider.orphan_subaccount", "Orphan subaccount"
        WEBHOOK_SECRET_CREATED = "webhook.secret_created", "Webhook secret created"
        WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", "Webhook secret rotated"
        CAMPAIGN_PAUSED = "campaign.paused_by_staff", "Campaign paused by staff"
        SENDER_REQUESTED = "sender_name.requested", "Sender name requested"
        SENDER_REFUSED = "sender_name.refused", "Sender name refused (deny list)"
        SENDER_WITHDRAWN = "sender_name.withdrawn", "Sender name request withdrawn"
        SENDER_APPROVED = "sender_name.approved", "Sender name approved"
        SENDER_REJECTED = "sender_name.rejected", "Sender name rejected"
        SENDER_REVOKED = "sender_name.revoked", "Sender name revoked"
        DENY_ADDED = "sender_deny.added", "Sender deny-list entry added"
        DENY_CHANGED = "sender_deny.changed", "Sender deny-list entry changed"
        DENY_REMOVED = "sender_deny.removed", "Sender deny-list entry removed"
        SMS_PARTS_LIMIT_CHANGED = "messaging.parts_limit_changed", "SMS parts limit changed"
        CALLBACK_TOKENS_ROTATED = "numbers.callback_tokens_rotated", "Callback URLs rotated"
        DEMO_SIMULATED = "demo.simulated", "Demo event simulated"
        PLAN_CREATED = "billing.plan_created", "Rate plan created"
        PLAN_CHANGED = "billing.plan_changed", "Rate plan changed"
        PLAN_VERSION_ADDED = "billing.plan_version_added", "Rate plan version added"
        PLAN_PRICES_CHANGED = "billing.plan_prices_changed", "Rate plan prices changed"
        PLAN_ASSIGNED = "billing.plan_assigned", "Rate plan assigned"
        BILLING_SETTINGS_CHANGED = "billing.settings_changed", "Billing settings changed"
        TOP_UP_RECORDED = "billing.top_up", "Prepaid top-up recorded"
        INVOICE_ADJUSTED = "invoice.adjusted", "Invoice adjustment added or removed"
        INVOICE_ISSUED = "invoice.issued", "Invoice issued"
        INVOICES_MEMBERS_CHANGED = "invoice.members_changed", "Members' access to invoices changed"
        API_KEY_CREATED = "api_key.created", "API key created"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        API_KEY_NEW_ADDRESS = "api_key.new_address", "API key used from a new address"
        API_SETTINGS_CHANGED = "api.settings_changed", "API limits or access changed"
        WEBHOOK_ENDPOINT_ADDED = "webhook.endpoint_added", "Event webhook added"
        WEBHOOK_ENDPOINT_CHANGED = "webhook.endpoint_changed", "Event webhook changed"
        WEBHOOK_ENDPOINT_REMOVED = "webhook.endpoint_removed", "Event webhook removed"

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40, choices=Action.choices)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class OrphanSubaccount(models.Model):
    """A 46elks subaccount that exists at the provider but belongs to no tenant.

    Recorded when saving a new tenant failed after 46elks had created its subaccount, and by
    the sync for any unknown subaccount, so staff can see and resolve it.
    """

    subaccount_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    detected = models.DateTimeField(default=timezone.now)
    resolved = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected"]

    def __str__(self) -> str:
        return self.subaccount_id


class SignInFailure(models.Model):
    """Failed sign-ins counted in the database while the cache (Redis) is unreachable.

    The cache holds these counters normally; accounts/throttle.py falls back to this table so
    an outage neither fails the sign-in page nor lifts the throttle.
    """

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"

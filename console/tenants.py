"""A tenant's life at the reseller: created with its 46elks subaccount and owner, its limit
changed, suspended and reactivated. These write both here and at 46elks, so they sit above the
apps (console) rather than in accounts, which knows no provider.

Provider calls never run inside a database transaction: intent is recorded and committed,
the provider is called, then the result is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.text import slugify

from accounts.models import AuditEvent, Membership, OrphanSubaccount, Tenant, User
from accounts.services import TenantError, audit_record, set_password_email_send, set_password_url
from billing.backstop import BackstopError, backstop_apply, backstop_limit, scaled
from billing.models import BillingAccount
from providers.clients import elks_master
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "tenant"
    slug, n = base, 2
    while Tenant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    owner: User
    # Empty when the owner already had an account: staff never get a link to someone's login.
    set_password_link: str
    owner_existing: bool = False


def tenant_create(
    *, name: str, usage_limit: int, owner_email: str, actor: User, request: HttpRequest | None
) -> TenantCreated:
    """Create a tenant, its 46elks subaccount and its owner's login.

    `usage_limit` is the tenant's monthly spending limit (its price), kept on its billing
    account; 46elks gets the backstop above it (`billing.backstop`: a new subaccount has
    spent nothing, so `usage_limit * BILLING_BACKSTOP_RATIO`), which `Tenant.usage_limit`
    then mirrors.

    The tenant row is committed first as `provisioning` so the name and slug are claimed
    before money-bearing state exists at 46elks. If 46elks refuses, that row is deleted and
    nothing remains. If 46elks accepted but recording the result fails, the subaccount is
    kept as an `OrphanSubaccount` for staff instead of being forgotten.
    """
    owner_email = owner_email.strip().lower()
    existing = User.objects.filter(email__iexact=owner_email).first()
    if existing is not None and existing.is_staff:
        raise TenantError("That email belongs to a staff user; staff cannot own a tenant.")
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                name=name.strip(),
                slug=unique_slug(name),
                usage_limit=usage_limit,
                currency=settings.ELKS_DEFAULT_CURRENCY,
                status=Tenant.Status.PROVISIONING,
            )
    except IntegrityError as exc:
        raise TenantError("A tenant with that name already exists.") from exc

    try:
        sub = elks_master().subaccount_create(name=tenant.name, usagelimit=scaled(usage_limit))
    except ElksError as exc:
        tenant.delete()
        raise TenantError(f"46elks refused to create the subaccount: {exc}") from exc

    try:
        with transaction.atomic():
            tenant.elks_subaccount_id = sub.id
            tenant.elks_secret = sub.secret or ""
            tenant.status = Tenant.Status.ACTIVE
            if sub.usagelimit is not None:
                tenant.usage_limit = sub.usagelimit
            tenant.save()
            owner = existing or User.objects.create_user(email=owner_email)
            Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
            audit_record(
                action=AuditEvent.Action.TENANT_CREATED,
                actor=actor,
                tenant=tenant,
                request=request,
                subaccount=sub.id,
                usage_limit=usage_limit,
                owner=owner_email,
                owner_existing=existing is not None,
            )
    except Exception as exc:
        orphan_record(subaccount_id=sub.id, name=tenant.name, reason=f"Saving failed: {exc!r}")
        Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.PROVISIONING).delete()
        raise TenantError(
            f"46elks created subaccount {sub.id}, but saving the tenant failed. "
            "It is listed under orphan subaccounts on the staff console."
        ) from exc

    if existing is not None:
        # Someone's existing login (possibly an owner elsewhere): a set-password link shown to
        # staff would hand them that account. The user is told by email and keeps their password.
        _existing_owner_notify(user=owner, tenant=tenant)
        return TenantCreated(tenant=tenant, owner=owner, set_password_link="", owner_existing=True)
    link = set_password_url(owner)
    set_password_email_send(user=owner, tenant=tenant, link=link)
    return TenantCreated(tenant=tenant, owner=owner, set_password_link=link)


def _existing_owner_notify(*, user: User, tenant: Tenant) -> None:
    if not user.has_usable_password():
        # Invited before but never chose a password: the link goes to them only.
        set_password_email_send(user=user, tenant=tenant, link=set_password_url(user))
        return
    send_mail(
        subject=f"You now own {tenant.name} on Switchboard",
        message=(
            f"You have been made the owner of {tenant.name} on Switchboard.\n\n"
            f"Sign in with your usual password at {settings.PUBLIC_BASE_URL}{reverse('login')} "
            f"as {user.email}.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def orphan_record(*, subaccount_id: str, name: str, reason: str) -> None:
    """Remember a subaccount nobody owns. Never raises: it runs on failure paths."""
    log.error("Orphan 46elks subaccount %s (%s): %s", subaccount_id, name, reason)
    try:
        OrphanSubaccount.objects.update_or_create(
            subaccount_id=subaccount_id,
            defaults={"name": name, "reason": reason, "resolved": None},
        )
    except Exception:
        log.exception("Could not record orphan subaccount %s", subaccount_id)


def tenant_set_limit(
    *, tenant: Tenant, usage_limit: int, actor: User, request: HttpRequest | None
) -> None:
    """Change the tenant's monthly limit (its price, on the billing account), then move the
    46elks backstop above it. The local limit is what stops sends, so it is saved even when
    46elks refuses the backstop; the hourly `backstop_raise` retries that."""
    account = BillingAccount.objects.get(pk=tenant.pk)
    old = account.monthly_limit
    BillingAccount.objects.filter(pk=tenant.pk).update(monthly_limit=usage_limit)
    audit_record(
        action=AuditEvent.Action.TENANT_LIMIT_CHANGED,
        actor=actor,
        tenant=tenant,
        request=request,
        old=old,
        new=usage_limit,
    )
    try:
        backstop_apply(tenant=tenant)
    except BackstopError as exc:
        raise TenantError(
            f"The monthly limit is saved, but {exc}. The hourly backstop task will retry."
        ) from exc


def _provider_set_limit(tenant: Tenant, usage_limit: int) -> None:
    if not tenant.elks_subaccount_id:
        raise TenantError("This tenant has no 46elks subaccount.")
    try:
        elks_master().subaccount_update(tenant.elks_subaccount_id, usagelimit=usage_limit)
    except ElksError as exc:
        raise TenantError(f"46elks refused the change: {exc}") from exc


def tenant_suspend(*, tenant: Tenant, actor: User, request: HttpRequest | None) -> None:
    if tenant.status != Tenant.Status.ACTIVE:
        raise TenantError(f"Only an active tenant can be suspended (this one is {tenant.status}).")
    _provider_set_limit(tenant, 0)
    tenant.suspended_usage_limit = tenant.usage_limit
    tenant.usage_limit = 0
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save(update_fields=["suspended_usage_limit", "usage_limit", "status", "updated"])
    audit_record(
        action=AuditEvent.Action.TENANT_SUSPENDED,
        actor=actor,
        tenant=tenant,
        request=request,
        kept_limit=tenant.suspended_usage_limit,
    )


def tenant_reactivate(*, tenant: Tenant, actor: User, request: HttpRequest | None) -> None:
    if tenant.status != Tenant.Status.SUSPENDED:
        raise TenantError("Only a suspended tenant can be reactivated.")
    # The backstop rule again, not the figure kept at suspension: a period may have passed.
    restored = backstop_limit(tenant=tenant)
    _provider_set_limit(tenant, restored)
    tenant.usage_limit = restored
    tenant.suspended_usage_limit = None
    tenant.status = Tenant.Status.ACTIVE
    tenant.save(update_fields=["suspended_usage_limit", "usage_limit", "status", "updated"])
    audit_record(
        action=AuditEvent.Action.TENANT_REACTIVATED,
        actor=actor,
        tenant=tenant,
        request=request,
        restored_limit=restored,
    )

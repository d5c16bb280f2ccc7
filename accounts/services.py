"""Writes for accounts: members, staff views of a portal and the audit trail.

Creating, limiting and suspending a tenant also changes its 46elks subaccount, so it lives a
floor up, in console/tenants.py.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import AuditEvent, Membership, Tenant, User
from core.net import client_address

log = logging.getLogger(__name__)

STAFF_VIEW_SESSION_KEY = "staff_view_tenant"


class TenantError(Exception):
    """A business rule refused the change; the message is fit for the page."""


# --- audit -----------------------------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address behind the trusted proxies (the same one the throttle uses)."""
    if request is None:
        return None
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # the column holds addresses only
        return None


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    tenant: Tenant | None = None,
    request: HttpRequest | None = None,
    **detail: object,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor and actor.is_authenticated else None,
        tenant=tenant,
        ip=client_ip(request),
        detail=detail,
    )


# --- tenants ---------------------------------------------------------------------------------


def set_password_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_set", kwargs={"uidb64": uid, "token": token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def set_password_email_send(*, user: User, tenant: Tenant, link: str) -> None:
    """The email with a one-time link to choose a password (new owners and invited members)."""
    send_mail(
        subject=f"Your Switchboard account for {tenant.name}",
        message=(
            f"You have been given access to {tenant.name} on Switchboard.\n\n"
            f"Choose your password here (the link works once):\n{link}\n\n"
            f"Sign in with this email address: {user.email}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


# --- staff views of a portal -----------------------------------------------------------------


def staff_view_start(*, request: HttpRequest, tenant: Tenant) -> None:
    """Record that a staff user is looking at a tenant's portal (once per view)."""
    current = request.session.get(STAFF_VIEW_SESSION_KEY)
    if current == tenant.slug:
        return
    if current:
        staff_view_end(request=request)
    request.session[STAFF_VIEW_SESSION_KEY] = tenant.slug
    audit_record(
        action=AuditEvent.Action.STAFF_VIEW_STARTED,
        actor=request.user,
        tenant=tenant,
        request=request,
    )


def staff_view_end(*, request: HttpRequest) -> Tenant | None:
    slug = request.session.pop(STAFF_VIEW_SESSION_KEY, None)
    if not slug:
        return None
    tenant = Tenant.objects.filter(slug=slug).first()
    audit_record(
        action=AuditEvent.Action.STAFF_VIEW_ENDED,
        actor=request.user,
        tenant=tenant,
        request=request,
        slug=slug,
    )
    return tenant


# --- members ---------------------------------------------------------------------------------


def member_invite(
    *, tenant: Tenant, email: str, role: str, actor: User, request: HttpRequest | None
) -> Membership:
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and user.is_staff:
        raise TenantError("That email belongs to a staff user; staff cannot join a tenant.")
    if user is not None and Membership.objects.filter(user=user, tenant=tenant).exists():
        raise TenantError(f"{email} is already a member of {tenant.name}.")
    with transaction.atomic():
        created = user is None
        if user is None:
            user = User.objects.create_user(email=email)
        membership = Membership.objects.create(user=user, tenant=tenant, role=role)
        audit_record(
            action=AuditEvent.Action.MEMBER_INVITED,
            actor=actor,
            tenant=tenant,
            request=request,
            email=email,
            role=role,
        )
    if created or not user.has_usable_password():
        set_password_email_send(user=user, tenant=tenant, link=set_password_url(user))
    else:
        send_mail(
            subject=f"You now have access to {tenant.name} on Switchboard",
            message=f"Sign in at {settings.PUBLIC_BASE_URL}{reverse('login')} as {user.email}.",
            from_email=None,
            recipient_list=[user.email],
        )
    return membership


def member_remove_refusal(membership: Membership, *, owners: int) -> str:
    """Why this membership cannot be removed ("" when it can), given the tenant's owner count:
    the pages offer "Remove" only where it will work."""
    if membership.is_owner and owners <= 1:
        return "The last owner cannot be removed; make someone else owner first."
    return ""


def member_remove(*, membership: Membership, actor: User, request: HttpRequest | None) -> None:
    tenant = membership.tenant
    owners = Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER).count()
    refusal = member_remove_refusal(membership, owners=owners)
    if refusal:
        raise TenantError(refusal)
    email = membership.user.email
    membership.delete()
    audit_record(
        action=AuditEvent.Action.MEMBER_REMOVED,
        actor=actor,
        tenant=tenant,
        request=request,
        email=email,
    )

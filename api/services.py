"""Writes for the tenant API: keys (create, revoke, authenticate), settings, the request log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from api.models import ApiKey, ApiKeyAddress, ApiRequest, ApiSettings, Scope

KEY_ID_PREFIX = "k"
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyRefused(Exception):
    """A key that cannot be created as asked; the message is fit for the page."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_create(
    *,
    tenant: Tenant,
    label: str,
    scopes: list[str],
    actor: User | None,
    request: HttpRequest | None = None,
) -> NewKey:
    label = label.strip()
    if not label:
        raise KeyRefused("Give the key a name, such as the system that will use it.")
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise KeyRefused("Choose at least one permission.")
    secret = secrets.token_hex(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            tenant=tenant,
            key_id=KEY_ID_PREFIX + secrets.token_hex(16),
            secret_hash=secret_hash(secret),
            secret_prefix=secret[:6],
            label=label[:80],
            scopes=[s for s in Scope.values if s in scopes],
            created_by=actor if actor and actor.is_authenticated else None,
        )
        audit_record(
            action=AuditEvent.Action.API_KEY_CREATED,
            actor=actor,
            tenant=tenant,
            request=request,
            key=key.key_id,
            label=key.label,
            scopes=key.scopes,
        )
    return NewKey(key=key, secret=secret)


def key_revoke(*, key: ApiKey, actor: User | None, request: HttpRequest | None = None) -> bool:
    """Revoke at once: the next request with this key is refused. False when already revoked."""
    with scope(tenant=key.tenant_id), transaction.atomic():
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(
            revoked_at=timezone.now(),
            revoked_by=actor if actor and actor.is_authenticated else None,
        )
        if revoked:
            audit_record(
                action=AuditEvent.Action.API_KEY_REVOKED,
                actor=actor,
                tenant=key.tenant,
                request=request,
                key=key.key_id,
                label=key.label,
            )
    return bool(revoked)


def key_authenticate(key_id: str, secret: str) -> ApiKey | None:
    """The active key with this id and secret (its tenant and API settings loaded), or None.

    One query (key_id is unique: no ORDER BY). The secret's hash is compared in constant
    time; an unknown id costs a hash too, so timing does not tell which ids exist.
    """
    with scopes_disabled():
        try:
            key: ApiKey | None = ApiKey.objects.select_related(
                "tenant", "tenant__api_settings"
            ).get(key_id=key_id[:40])
        except ApiKey.DoesNotExist:
            key = None
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(secret_hash(secret), expected):
        return None
    if key is None or key.revoked_at is not None:
        return None
    return key


def key_used(*, key: ApiKey, ip: str | None) -> None:
    """Record the key's use: last use (at most once a minute) and, audited, each new address."""
    now = timezone.now()
    if ip and ip != key.last_ip:
        try:
            with transaction.atomic():
                ApiKeyAddress.objects.create(key=key, ip=ip)
                audit_record(
                    action=AuditEvent.Action.API_KEY_NEW_ADDRESS,
                    tenant=key.tenant,
                    key=key.key_id,
                    label=key.label,
                    address=ip,
                )
        except IntegrityError:
            pass  # seen before (or by a concurrent request)
        ApiKey.objects.filter(pk=key.pk).update(last_ip=ip, last_used_at=now)
        return
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


def settings_for(tenant: Tenant) -> ApiSettings:
    """The tenant's API settings (defaults until staff or the owner change one)."""
    try:
        return tenant.api_settings
    except ApiSettings.DoesNotExist:
        pass
    with scopes_disabled():
        found, _ = ApiSettings.objects.get_or_create(tenant=tenant)
    return found


def settings_change(
    *,
    tenant: Tenant,
    actor: User | None,
    request: HttpRequest | None = None,
    **values: object,
) -> ApiSettings:
    """Change the tenant's API limits or members' access; audited with before and after."""
    current = settings_for(tenant)
    before = {name: getattr(current, name) for name in values}
    with transaction.atomic():
        for name, value in values.items():
            setattr(current, name, value)
        current.save(update_fields=list(values))
        audit_record(
            action=AuditEvent.Action.API_SETTINGS_CHANGED,
            actor=actor,
            tenant=tenant,
            request=request,
            before=before,
            after=dict(values),
        )
    return current


def request_record(
    *, key: ApiKey, method: str, path: str, status: int, latency_ms: int, ip: str | None
) -> None:
    """One row in the tenant's API request log (no body, no query string)."""
    ApiRequest.objects.create(
        tenant_id=key.tenant_id,
        key=key,
        method=method[:8],
        path=path[:200],
        status=status,
        latency_ms=latency_ms,
        ip=ip or None,
    )


def logs_prune() -> dict[str, int]:
    """Forget idempotent answers after 24 hours and request-log rows after
    API_REQUEST_LOG_DAYS (the page shows recent requests; the audit log keeps key events)."""
    from django.conf import settings

    from api.idempotency import idempotency_prune

    cutoff = timezone.now() - timedelta(days=settings.API_REQUEST_LOG_DAYS)
    with scopes_disabled():
        requests, _ = ApiRequest.objects.filter(created__lt=cutoff).delete()
    return {"idempotent": idempotency_prune(), "requests": requests}

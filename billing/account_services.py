"""Staff writes on a tenant's billing account: settings and mode, top-ups. All audited.

Each change that moves what the tenant may spend (limit, mode, balance) moves the 46elks
backstop after the local row is committed (`billing.backstop`: a provider call, so never
inside the transaction). If 46elks refuses, the local change stands (it is what stops sends)
and the caller gets the warning; the hourly `backstop_raise` retries.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from billing.backstop import BackstopError, backstop_apply
from billing.models import BillingAccount, TopUp
from billing.services import top_up_record

SETTINGS_FIELDS = (
    "mode",
    "monthly_limit",
    "alert_thresholds",
    "low_balance",
    "time_zone",
    "vat_rate_bp",
    "vat_number",
    "reverse_charge",
    "billing_name",
    "billing_address",
    "billing_email",
    "members_see_invoices",
)
# Changes to these move what the tenant may spend, so the backstop follows.
BACKSTOP_FIELDS = {"mode", "monthly_limit", "time_zone"}


def _backstop_follow(tenant: Tenant) -> str:
    try:
        backstop_apply(tenant=tenant)
    except BackstopError as exc:
        return f"{exc}. The hourly backstop task will retry."
    return ""


def account_settings_update(
    *, tenant: Tenant, values: dict[str, Any], actor: User, request: HttpRequest | None
) -> str:
    """Save the billing settings; returns a warning for staff ('' when all went through)."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=tenant.pk)
        changed: dict[str, list[Any]] = {}
        for field in SETTINGS_FIELDS:
            if field in values and getattr(account, field) != values[field]:
                changed[field] = [getattr(account, field), values[field]]
                setattr(account, field, values[field])
        if not changed:
            return ""
        account.save(update_fields=[*changed, "updated"])
        audit_record(
            action=AuditEvent.Action.BILLING_SETTINGS_CHANGED,
            actor=actor,
            tenant=tenant,
            request=request,
            changed=changed,
        )
    return _backstop_follow(tenant) if BACKSTOP_FIELDS & changed.keys() else ""


def account_top_up(
    *, tenant: Tenant, amount: int, note: str, actor: User, request: HttpRequest | None
) -> tuple[TopUp, str]:
    """Record a top-up (negative: a correction) and raise the backstop with the balance."""
    with transaction.atomic():
        top_up = top_up_record(tenant=tenant, amount=amount, note=note, actor=actor)
        audit_record(
            action=AuditEvent.Action.TOP_UP_RECORDED,
            actor=actor,
            tenant=tenant,
            request=request,
            amount=amount,
            note=note,
        )
    return top_up, _backstop_follow(tenant)

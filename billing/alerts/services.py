"""Spend alerts: the tenant's owners at each threshold of the monthly limit and on a low
prepaid balance; staff when the master account runs low. Once per threshold per period.

Where the tenant check runs, and why: `alerts_check` is a beat task every minute, not a step
of `spend_settle`. Settling is the hot path (every message, call leg and rental) and is one
UPDATE; a read and a decision after each would add a query to every event for something that
changes a handful of times a month. The minute pass costs two queries however many events
happened: one over the accounts that could have crossed something (postpaid with spend this
period, prepaid below their floor), one over the alerts already sent this period; only a
threshold newly crossed costs more (an insert, an email). A minute of delay is fine for a
warning, and the 100% case is also refused at once by the reservation itself.

"Once" is held by the database: `BillingAlert` is unique per (tenant, period, key), so two
overlapping runs cannot both send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Membership, Tenant, User
from billing.models import BillingAccount, BillingAlert, StaffAlert
from billing.periods import current_period
from providers.clients import elks_master
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)

LOW_BALANCE = "low_balance"


@dataclass(frozen=True)
class Crossed:
    tenant_id: int
    period: date
    key: str
    figure: int


def thresholds_of(account: BillingAccount) -> list[int]:
    """The account's thresholds as sorted whole percentages (bad stored values skipped)."""
    out = set()
    for value in account.alert_thresholds or []:
        try:
            pct = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < pct <= 1000:
            out.add(pct)
    return sorted(out)


def crossed_keys(account: BillingAccount, *, at: datetime | None = None) -> list[Crossed]:
    """Every alert key the account's figures reach now (already sent or not)."""
    period = current_period(account.time_zone, at)
    if account.is_prepaid:
        if account.low_balance > 0 and account.balance < account.low_balance:
            return [Crossed(account.pk, period, LOW_BALANCE, account.balance)]
        return []
    spent = account.period_spent if account.period_start >= period else 0
    if spent <= 0:
        return []
    return [
        Crossed(account.pk, period, str(pct), spent)
        for pct in thresholds_of(account)
        if spent * 100 >= account.monthly_limit * pct
    ]


@scopes_disabled()
def alerts_check(*, at: datetime | None = None) -> list[BillingAlert]:
    """Beat: send every alert newly due. Returns the alerts created."""
    candidates = BillingAccount.objects.filter(
        Q(mode=BillingAccount.Mode.POSTPAID, period_spent__gt=0)
        | Q(mode=BillingAccount.Mode.PREPAID, low_balance__gt=0, balance__lt=F("low_balance"))
    )
    due = [c for account in candidates for c in crossed_keys(account, at=at)]
    if not due:
        return []
    sent = set(
        BillingAlert.objects.filter(
            tenant_id__in={c.tenant_id for c in due}, period__gte=min(c.period for c in due)
        ).values_list("tenant_id", "period", "key")
    )
    created = []
    for crossed in due:
        if (crossed.tenant_id, crossed.period, crossed.key) in sent:
            continue
        alert = alert_record(crossed)
        if alert is not None:
            created.append(alert)
    return created


def alert_record(crossed: Crossed) -> BillingAlert | None:
    """Insert the alert (the unique row decides) and, only if this call inserted it, email."""
    try:
        with transaction.atomic():
            alert = BillingAlert.objects.create(
                tenant_id=crossed.tenant_id,
                period=crossed.period,
                key=crossed.key,
                figure=crossed.figure,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _owners_email(alert))
    return alert


def alert_text(alert: BillingAlert) -> str:
    if alert.key == LOW_BALANCE:
        return "Your prepaid balance is running low. Ask your provider to top up your account."
    return (
        f"You have used {alert.key}% of this month's spending limit. Sends are refused once "
        "the limit is reached; ask your provider to raise it if you need more."
    )


def _owners_email(alert: BillingAlert) -> None:
    tenant = Tenant.objects.get(pk=alert.tenant_id)
    owners = list(
        User.objects.filter(
            memberships__tenant=tenant,
            memberships__role=Membership.Role.OWNER,
            is_active=True,
        ).values_list("email", flat=True)
    )
    if not owners:
        return
    link = settings.PUBLIC_BASE_URL + reverse("billing:overview", args=[tenant.slug])
    send_mail(
        subject=f"{tenant.name}: billing alert",
        message=f"{alert_text(alert)}\n\nYour billing page: {link}\n",
        from_email=None,
        recipient_list=owners,
    )


def alert_dismiss(*, alert: BillingAlert) -> None:
    """Hide the banner; the alert row stays (it is what keeps it once per period)."""
    BillingAlert.objects.filter(pk=alert.pk, dismissed=None).update(dismissed=timezone.now())


# --- staff alerts -----------------------------------------------------------------------------


def staff_alert_record(
    *, kind: str, tenant: Tenant | None, detail: dict[str, object], text: str
) -> StaffAlert | None:
    """One per kind (and tenant) per day; emails staff only when this call created it."""
    try:
        with transaction.atomic():
            alert = StaffAlert.objects.create(
                kind=kind, tenant=tenant, day=timezone.localdate(), detail=detail
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _staff_email(text))
    return alert


def _staff_email(text: str) -> None:
    staff = list(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))
    if staff:
        send_mail(
            subject="Switchboard: billing alert",
            message=f"{text}\n\n{settings.PUBLIC_BASE_URL}{reverse('staff:console')}\n",
            from_email=None,
            recipient_list=staff,
        )


def master_balance_check() -> StaffAlert | None:
    """Beat: the master account's balance (`GET /a1/me`) against the configured floor."""
    try:
        account = elks_master().me()
    except ElksError:
        log.exception("Master balance not read")
        return None
    floor = settings.BILLING_MASTER_BALANCE_FLOOR
    if account.balance >= floor:
        return None
    return staff_alert_record(
        kind=StaffAlert.Kind.MASTER_BALANCE,
        tenant=None,
        detail={"balance": account.balance, "floor": floor, "currency": account.currency},
        text=(
            f"The 46elks master balance is {account.balance / 10_000:.2f} {account.currency}, "
            f"below the floor of {floor / 10_000:.2f}. Top up at 46elks before sends fail."
        ),
    )


def staff_alert_resolve(*, alert: StaffAlert) -> None:
    StaffAlert.objects.filter(pk=alert.pk, resolved=None).update(resolved=timezone.now())

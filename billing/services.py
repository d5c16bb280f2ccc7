"""Billing writes: the tenant's account, spend reservations, top-ups, snapshots.

Every send, call, rental and campaign message reserves its estimated price with
`spend_reserve` before it reaches the provider: one conditional UPDATE on the tenant's
account row, so two processes can never both take the last of the limit. Rating
(`billing.ledger.services.usage_record`) settles: it releases the reservation and adds the
real price to the period, in the same UPDATE.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Value
from django.db.models.functions import Greatest

from accounts.models import Tenant, User
from billing.models import BillingAccount, RatePlan, TopUp, UsageSnapshot
from billing.periods import current_period


class SpendRefused(Exception):
    """The reservation does not fit the tenant's limit or balance: a message for the user."""


def default_plan() -> RatePlan:
    plan = RatePlan.objects.filter(is_default=True).first()
    if plan is None:  # the migration creates one; a test database flushed of it gets it back
        plan, _ = RatePlan.objects.get_or_create(name="Standard", defaults={"is_default": True})
    return plan


def account_create(*, tenant: Tenant, monthly_limit: int | None = None) -> BillingAccount:
    """The tenant's account on the default plan, postpaid, its limit the tenant's usage limit."""
    from billing.plans.services import plan_ensure_version

    plan = default_plan()
    plan_ensure_version(plan=plan)
    account, _ = BillingAccount.objects.get_or_create(
        tenant=tenant,
        defaults={
            "plan": plan,
            "monthly_limit": tenant.usage_limit if monthly_limit is None else monthly_limit,
            "period_start": current_period("Europe/Stockholm"),
        },
    )
    return account


def account_for(tenant: Tenant | int) -> BillingAccount:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    try:
        return BillingAccount.objects.get(pk=tenant_id)
    except BillingAccount.DoesNotExist:
        obj = tenant if isinstance(tenant, Tenant) else Tenant.objects.get(pk=tenant_id)
        return account_create(tenant=obj)


def spend_reserve(
    *, tenant_id: int, amount: int, at: datetime | None = None, time_zone: str | None = None
) -> bool:
    """Reserve `amount` (tenant price) if it fits; False when it does not. Atomic.
    A caller that has just read the account passes its time zone and saves a read."""
    if amount <= 0:
        return True
    if time_zone is None:
        time_zone = account_for(tenant_id).time_zone
    period = connection.ops.adapt_datefield_value(current_period(time_zone, at))
    # Plain SQL, as account_settle: every send runs it, and the ORM spent ~1 ms compiling
    # the CASE. A postpaid account fits under its limit with what is spent this period (0
    # when the stored period is over) and reserved; a prepaid one within its balance.
    sql = (
        f"UPDATE {BillingAccount._meta.db_table} SET reserved = reserved + %s "
        "WHERE tenant_id = %s AND ("
        "(mode = %s AND monthly_limit >= "
        "(CASE WHEN period_start < %s THEN 0 ELSE period_spent END) + reserved + %s) "
        "OR (mode = %s AND balance >= reserved + %s))"
    )
    postpaid, prepaid = BillingAccount.Mode.POSTPAID, BillingAccount.Mode.PREPAID
    params: list[int | str | None] = [amount, tenant_id, postpaid, period, amount, prepaid, amount]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def spend_reserve_or_refuse(
    *, tenant_id: int, amount: int, what: str, time_zone: str | None = None
) -> None:
    """`spend_reserve`, raising `SpendRefused` with a sentence the user can act on."""
    if spend_reserve(tenant_id=tenant_id, amount=amount, time_zone=time_zone):
        return
    account = account_for(tenant_id)
    if account.is_prepaid:
        raise SpendRefused(
            f"Not enough balance for {what}: ask your provider to top up your account."
        )
    raise SpendRefused(
        f"This would take you over your monthly spending limit, so {what} was not started. "
        "Ask your provider to raise the limit, or wait for next month."
    )


def spend_release(*, tenant_id: int, amount: int) -> None:
    """Give back a reservation whose send never reached the provider."""
    if amount > 0:
        BillingAccount.objects.filter(pk=tenant_id).update(
            reserved=Greatest(F("reserved") - amount, Value(0), output_field=BigIntegerField())
        )


def spend_settle(
    *,
    tenant_id: int,
    price: int,
    release: int,
    at: datetime | None = None,
    time_zone: str | None = None,
) -> None:
    """Add a rated `price` to the period (and take it off a prepaid balance), releasing
    `release` of the reservation, in one UPDATE; starts a new period when one began.
    A caller that knows the account's time zone passes it and saves a read."""
    if price == 0 and release == 0:
        return
    if time_zone is None:
        time_zone = BillingAccount.objects.only("time_zone").get(pk=tenant_id).time_zone
    account_settle(
        tenant_id=tenant_id, price=price, release=release, period=current_period(time_zone, at)
    )


def account_settle(*, tenant_id: int, price: int, release: int, period: date) -> None:
    """The settling UPDATE itself, as plain SQL: release the reservation, add the price to
    the period (or start the new period with it), and a prepaid balance pays. Plain SQL
    because every send runs it and compiling the ORM's CASE expressions cost ~1 ms each."""
    table = BillingAccount._meta.db_table
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    day = connection.ops.adapt_datefield_value(period)
    sql = (
        f"UPDATE {table} SET reserved = {greatest}(reserved - %s, 0), "
        "period_spent = CASE WHEN period_start < %s THEN %s ELSE period_spent + %s END, "
        f"period_start = {greatest}(period_start, %s), "
        "balance = CASE WHEN mode = %s THEN balance - %s ELSE balance END "
        "WHERE tenant_id = %s"
    )
    params = [release, day, price, price, day, BillingAccount.Mode.PREPAID, price, tenant_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def top_up_record(*, tenant: Tenant, amount: int, note: str, actor: User | None) -> TopUp:
    """Add `amount` to a prepaid balance; the TopUp row and the balance move together."""
    with transaction.atomic():
        top_up = TopUp.objects.create(tenant=tenant, amount=amount, note=note, created_by=actor)
        BillingAccount.objects.filter(pk=tenant.pk).update(balance=F("balance") + amount)
    return top_up


def usage_snapshot_record(*, tenant: Tenant, balanceused: int, taken_at: datetime) -> None:
    UsageSnapshot.objects.create(tenant=tenant, balanceused=balanceused, taken_at=taken_at)

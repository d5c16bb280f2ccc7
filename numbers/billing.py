"""Number rentals at the tenant's price: the monthly price shown, the first month reserved and
rated at rental, and each new month rated by the `number-months` beat task.

Prices: `NumberPrice` is the catalogue (what is offered, and 46elks' monthly cost); the
tenant pays its plan's price for the country and category (billing.plans: the listed
number-month price, else the plan's markup over the cost, else the cost).

A number-month is the ledger source `number:<pk>:<yyyy-mm>`, the calendar month in the
tenant's billing time zone: renting rates the month it is rented in (a whole month, not
prorated), and every month after that is rated when it starts, while the number is active.
46elks renews an active number each month; a released (or quarantined) number is not rated
again.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from billing.ledger.models import UsageEntry
from billing.ledger.services import Rater, UsageEvent, usage_record
from billing.periods import current_period, period_bounds
from billing.services import spend_release, spend_reserve_or_refuse
from numbers.models import NumberPrice, PhoneNumber
from providers.elks.types import Number as ElksNumber


def month_source(number_id: int, period: date) -> str:
    return f"number:{number_id}:{period:%Y-%m}"


def catalogue_price(*, tenant: Tenant, country: str, category: str) -> NumberPrice | None:
    """The catalogue row that offers this country and category (None: not offered)."""
    return NumberPrice.objects.filter(
        country=country.lower(), category=category, currency=tenant.currency
    ).first()


def monthly_price_quote(
    *, tenant_id: int, country: str, category: str, cost: int | None, rater: Rater | None = None
) -> int:
    """The tenant's price per month for a number (its plan, now)."""
    event = UsageEvent(
        kind="number",
        source="estimate",
        occurred_at=timezone.now(),
        country=country.lower(),
        category=category,
        provider_cost=cost,
    )
    return (rater or Rater()).quote(tenant_id=tenant_id, event=event).price


def offered_price(*, tenant: Tenant, country: str, category: str) -> int | None:
    """What the rent page shows: the tenant's monthly price, None when not offered."""
    row = catalogue_price(tenant=tenant, country=country, category=category)
    if row is None:
        return None
    return monthly_price_quote(
        tenant_id=tenant.pk, country=country, category=category, cost=row.monthly_price
    )


def number_month_price(number: PhoneNumber, rater: Rater | None = None) -> int | None:
    """The number's price per month for its tenant now (number pages)."""
    if number.tenant_id is None:
        return None
    return monthly_price_quote(
        tenant_id=number.tenant_id,
        country=number.country,
        category=number.category,
        cost=number.monthly_price,
        rater=rater,
    )


def rental_reserve(*, tenant: Tenant, country: str, category: str, cost: int) -> int:
    """Reserve the first month's price before 46elks is asked (SpendRefused if it does not
    fit); returns the amount, to store on the number's claim row."""
    amount = monthly_price_quote(tenant_id=tenant.pk, country=country, category=category, cost=cost)
    spend_reserve_or_refuse(tenant_id=tenant.pk, amount=amount, what="renting a number")
    return amount


def rental_release(*, number: PhoneNumber) -> None:
    """The rental did not happen: give its reservation back (once)."""
    if number.reserved and PhoneNumber.objects.filter(
        pk=number.pk, reserved=number.reserved
    ).update(reserved=0):
        spend_release(tenant_id=number.tenant_id or 0, amount=number.reserved)
        number.reserved = 0


def allocation_cost(remote: ElksNumber) -> int | None:
    """46elks' monthly cost if its allocation answer gives one (1/10000, like other costs)."""
    value = remote.raw.get("cost")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def number_month_rate(
    *, number: PhoneNumber, at: datetime | None = None, rater: Rater | None = None
) -> int:
    """Rate the number's month holding `at` (rental: now), releasing the rental's reservation.
    Call inside the transaction that activates the number. Returns the month's price."""
    rater = rater or Rater()
    tenant_id = number.tenant_id
    assert tenant_id is not None
    at = at or timezone.now()
    period = current_period(rater.account(tenant_id).time_zone, at)
    release = 0
    if number.reserved and PhoneNumber.objects.filter(
        pk=number.pk, reserved=number.reserved
    ).update(reserved=0):
        release, number.reserved = number.reserved, 0
    event = UsageEvent(
        kind="number",
        source=month_source(number.pk, period),
        occurred_at=at,
        country=number.country,
        category=number.category,
        provider_cost=number.monthly_price,
        number_id=number.pk,
    )
    return usage_record(tenant_id=tenant_id, event=event, release=release, rater=rater).price


@scopes_disabled()
def number_months_rate(*, at: datetime | None = None) -> int:
    """Beat: rate the month that has started for every active number not rated for it yet.
    Idempotent by the source key; returns how many months were rated."""
    at = at or timezone.now()
    numbers = list(
        PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE, tenant__isnull=False)
        .exclude(tenant__status=Tenant.Status.CLOSED)
        .order_by("tenant_id", "pk")
    )
    by_tenant: dict[int, list[PhoneNumber]] = {}
    for number in numbers:
        by_tenant.setdefault(number.tenant_id or 0, []).append(number)
    rater = Rater()
    rated = 0
    for tenant_id, owned in by_tenant.items():
        zone = rater.account(tenant_id).time_zone
        period = current_period(zone, at)
        start, _ = period_bounds(period, zone)
        sources = {month_source(n.pk, period): n for n in owned}
        with scope(tenant=tenant_id):
            done = set(
                UsageEntry.objects.filter(tenant_id=tenant_id, source__in=list(sources))
                .values_list("source", flat=True)
                .distinct()
            )
            for source, number in sources.items():
                if source in done:
                    continue
                with transaction.atomic():
                    number_month_rate(number=number, at=max(start, number.allocated_at or start))
                rated += 1
    return rated

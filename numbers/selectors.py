from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from billing.ledger.models import UsageEntry
from core.pagination import KeysetPage, keyset_page
from numbers.billing import number_month_price
from numbers.models import PhoneNumber

PAGE_SIZE = 50


# What the callback view reads of a number for anything but a call (which needs its plan).
LEAN_HOOK_FIELDS = (
    "id",
    "tenant_id",
    "number",
    "status",
    "has_sms",
    "sms_autoreply_enabled",
    "sms_autoreply_text",
)


def number_for_hook_token(token: str, *, full: bool = True) -> PhoneNumber | None:
    """The number a callback URL belongs to (current token, or the previous one in overlap).

    `full=False` is the hot path for stored-only callbacks: the lean row (no joins, no
    decrypting the tenant's secret; measured: 53% of an inbound SMS's CPU went there), kept
    per process for HOOK_NUMBER_CACHE_SECONDS (the query was the next largest cost). So a
    change to a number reaches other processes' callbacks within that time; its events are
    stored either way and processing re-reads the number. Misses are not kept: a number
    rented a moment ago must answer at once. Calls (`full=True`) always read the database.
    """
    if full:
        return _hook_number_query(token, full=True)
    now = time.monotonic()
    hit = _hook_numbers.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    number = _hook_number_query(token, full=False)
    ttl = settings.HOOK_NUMBER_CACHE_SECONDS
    if number is not None and ttl > 0:
        if len(_hook_numbers) >= _HOOK_CACHE_MAX:  # bounded; a clear costs one query each
            _hook_numbers.clear()
        _hook_numbers[token] = (now + ttl, number)
    return number


def forget_hook_numbers(**signal_kwargs: object) -> None:
    """Empty this process's cache; runs on every PhoneNumber save (rare next to callbacks)."""
    _hook_numbers.clear()


# token -> (monotonic expiry, lean row); per process, shared by its threads (dict ops are atomic)
_hook_numbers: dict[str, tuple[float, PhoneNumber]] = {}
_HOOK_CACHE_MAX = 10_000


def _hook_number_query(token: str, *, full: bool) -> PhoneNumber | None:
    with scopes_disabled():
        qs = PhoneNumber.objects.filter(
            Q(hook_token=token)
            | Q(previous_hook_token=token, previous_hook_token_until__gt=timezone.now())
        )
        if full:
            qs = qs.select_related("tenant", "voicemail_greeting")
        else:
            qs = qs.only(*LEAN_HOOK_FIELDS)
        # Tokens are unique: no ORDER BY needed for the one row.
        return next(iter(qs.order_by()[:1]), None)


@dataclass(frozen=True)
class NumberFilters:
    country: str = ""
    capability: str = ""
    status: str = ""
    digits: str = ""
    provider: str = ""
    tenant: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> NumberFilters:
        return cls(
            country=query.get("country", "").strip().lower()[:2],
            capability=query.get("capability", "")
            if query.get("capability")
            in (
                "sms",
                "mms",
                "voice",
            )
            else "",
            status=query.get("status", "")
            if query.get("status") in PhoneNumber.Status.values
            else "",
            digits="".join(ch for ch in query.get("q", "") if ch.isdigit())[:15],
            provider=query.get("provider", ""),
            tenant=query.get("tenant", "").strip(),
        )

    def apply(self, qs: QuerySet[PhoneNumber]) -> QuerySet[PhoneNumber]:
        if self.country:
            qs = qs.filter(country=self.country)
        if self.capability:
            qs = qs.filter(**{f"has_{self.capability}": True})
        if self.status:
            qs = qs.filter(status=self.status)
        if self.digits:
            qs = qs.filter(number__contains=self.digits)
        if self.provider:
            qs = qs.filter(provider=self.provider)
        if self.tenant:
            qs = qs.filter(tenant__slug=self.tenant)
        return qs


def numbers_page(
    *, filters: NumberFilters, cursor: str | None, size: int = PAGE_SIZE
) -> KeysetPage:
    """A tenant's numbers (inside its scope), newest first."""
    return keyset_page(filters.apply(PhoneNumber.objects.all()), cursor=cursor, size=size)


def staff_numbers_page(
    *, filters: NumberFilters, cursor: str | None, size: int = PAGE_SIZE
) -> KeysetPage:
    with scopes_disabled():
        qs = filters.apply(PhoneNumber.objects.select_related("tenant"))
        return keyset_page(qs, cursor=cursor, size=size)


def rentable_countries() -> list[tuple[str, str]]:
    """(code, "Sweden (SE)") for every country with a number price, by name: the rent form
    offers these only (a number is never rented at a price nobody set)."""
    from django_countries import countries

    from numbers.models import NumberPrice

    codes = NumberPrice.objects.values_list("country", flat=True).distinct()
    named = [
        (code, f"{countries.name(code.upper()) or code.upper()} ({code.upper()})") for code in codes
    ]
    return sorted(set(named), key=lambda choice: choice[1])


def activity_last_30_days(numbers: list[PhoneNumber]) -> dict[int, tuple[int, int]]:
    """{number id: (messages, calls)} over the last 30 days, in two grouped queries.

    The one place numbers reads the rooms that sit on it: each count comes from the owning
    app's selector (imported here, at call time, so loading numbers never loads them).
    """
    from calls.selectors import calls_per_number
    from messaging.selectors import messages_per_number

    ids = [n.pk for n in numbers]
    if not ids:
        return {}
    since = timezone.now() - timedelta(days=30)
    messages = messages_per_number(number_ids=ids, since=since)
    calls = calls_per_number(number_ids=ids, since=since)
    return {pk: (messages.get(pk, 0), calls.get(pk, 0)) for pk in ids}


@dataclass(frozen=True)
class NumberMoney:
    """Staff: a number's monthly price (the tenant's plan), 46elks' cost and the margin, and
    what its months were billed so far (ledger totals)."""

    price: int | None
    cost: int | None
    billed_price: int
    billed_cost: int

    @property
    def margin(self) -> int | None:
        return None if self.price is None or self.cost is None else self.price - self.cost

    @property
    def billed_margin(self) -> int:
        return self.billed_price - self.billed_cost


def number_money(number: PhoneNumber) -> NumberMoney:
    if number.tenant_id is None:
        return NumberMoney(None, number.monthly_price, 0, 0)
    with scope(tenant=number.tenant_id):
        sums = UsageEntry.objects.filter(
            tenant_id=number.tenant_id, number_id=number.pk, kind="number"
        ).aggregate(price=Sum("price"), cost=Sum("provider_cost"))
    return NumberMoney(
        number_month_price(number), number.monthly_price, sums["price"] or 0, sums["cost"] or 0
    )

"""Pricing arithmetic: pure functions over a loaded plan version (no queries here).

Rounding rule: the ledger keeps 1/10000 of the currency unit; a price computed from a rate
(per minute, a markup percentage) is rounded *up* to the next 1/10000, so the reseller never
sells below the listed rate through rounding. Invoices round to the minor unit later
(`billing.invoices.money.round_minor`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings

from billing.plans.models import PlanPrice, PriceKind, RatePlanVersion


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def with_markup(cost: int, markup_bp: int) -> int:
    """`cost` plus `markup_bp` basis points, rounded up to the unit."""
    return ceil_div(cost * (10_000 + markup_bp), 10_000)


def billed_seconds(seconds: int, *, first: int, step: int) -> int:
    """Seconds billed for a call of `seconds`: a first block, then whole steps (0 stays 0)."""
    if seconds <= 0:
        return 0
    if seconds <= first:
        return first
    return first + ceil_div(seconds - first, step) * step


def country_of(e164: str) -> str:
    """ISO alpha-2, lower case, of an E.164 number ('' when it is not a phone number)."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ""
    return (region or "").lower() if region != "ZZ" else ""


def sms_part_cost_estimate(to: str) -> int:
    """46elks' price of one SMS part to `to`, by the longest matching prefix in settings:
    the provider cost we assume until 46elks reports the real one."""
    prices: dict[str, int] = settings.SMS_PART_PRICES
    for prefix in sorted(prices, key=len, reverse=True):
        if to.startswith(prefix):
            return int(prices[prefix])
    return int(settings.SMS_PART_PRICE_OTHER)


@dataclass(frozen=True)
class Priced:
    price: int
    provider_cost: int
    quantity: int
    estimated: bool


@dataclass
class PlanBook:
    """One plan version with its listed prices, ready to price events without queries."""

    version: RatePlanVersion
    prices: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, version: RatePlanVersion) -> PlanBook:
        rows = (
            PlanPrice.objects.filter(version=version)
            .order_by()  # a dict: no ORDER BY
            .values_list("kind", "country", "category", "price")
        )
        return cls(version=version, prices={(k, c, g): p for k, c, g, p in rows})

    def listed(self, kind: str, country: str, category: str = "") -> int | None:
        """The listed price for the country (and category), else the any-country one."""
        for key in ((kind, country, category), (kind, country, ""), (kind, "", category)):
            if key in self.prices:
                return self.prices[key]
        return self.prices.get((kind, "", ""))

    def _fallback(self, cost: int) -> int:
        markup = self.version.markup_bp
        return cost if markup is None else with_markup(cost, markup)

    def sms_out(self, *, to: str, parts: int, cost: int | None) -> Priced:
        listed = self.listed(PriceKind.SMS_PART, country_of(to))
        known = cost if cost is not None else parts * sms_part_cost_estimate(to)
        price = parts * listed if listed is not None else self._fallback(known)
        return Priced(price, known, parts, cost is None)

    def mms_out(self, *, to: str, cost: int | None) -> Priced:
        listed = self.listed(PriceKind.MMS, country_of(to))
        known = cost if cost is not None else int(settings.MMS_COST_ESTIMATE)
        price = listed if listed is not None else self._fallback(known)
        return Priced(price, known, 1, cost is None)

    def inbound(self, *, mms: bool, cost: int | None) -> Priced:
        price = self.version.mms_in_price if mms else self.version.sms_in_price
        return Priced(price, cost or 0, 1, False)

    def call(self, *, to: str, seconds: int, cost: int | None) -> Priced:
        v = self.version
        billed = billed_seconds(seconds, first=v.call_first_seconds, step=v.call_next_seconds)
        listed = self.listed(PriceKind.CALL_MINUTE, country_of(to))
        known = cost if cost is not None else 0
        if billed == 0:
            return Priced(0, known, 0, cost is None)
        if listed is None:
            return Priced(self._fallback(known), known, billed, cost is None)
        price = v.call_connection_fee + ceil_div(billed * listed, 60)
        return Priced(price, known, billed, cost is None)

    def number_month(self, *, country: str, category: str, cost: int | None) -> Priced:
        listed = self.listed(PriceKind.NUMBER_MONTH, country.lower(), category)
        known = cost if cost is not None else int(settings.MMS_COST_ESTIMATE)
        price = listed if listed is not None else self._fallback(known)
        return Priced(price, known, 1, cost is None)

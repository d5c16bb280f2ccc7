"""Frozen dataclasses for Infobip Numbers API objects, and the lenient parsers that build them.

Parsers read with defaults, never fail on unknown or missing keys, and keep the original dict in
``raw``. Money is a :class:`~decimal.Decimal` in the account currency (``price.currency``):
Infobip sends decimals with up to six places (``"initialMonthPrice": 9.193549``), which no
integer minor unit holds exactly. The client parses JSON floats straight into ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["InfobipNumber", "NumberPage", "Price", "digits", "parse_decimal"]

Raw = Mapping[str, Any]


def parse_decimal(value: object) -> Decimal | None:
    """``15``, ``9.193549``, ``"5.00"`` or a ``Decimal`` -> Decimal; anything else -> ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float | str):
        try:
            # str() first: Decimal(0.1) would keep the binary float's noise.
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return parsed if parsed.is_finite() else None
    return None


def digits(number: str) -> str:
    """``"+46 70-123 45 67"`` -> ``"46701234567"``: how Infobip writes numbers (no ``+``)."""
    return "".join(ch for ch in str(number) if ch.isdigit())


def _str(raw: Raw, key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _capabilities(value: object) -> list[str]:
    # Documented as an array; tolerate "SMS,VOICE" as the old docs' query string writes it.
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        return []
    return [str(c).strip().upper() for c in value if str(c).strip()]


@dataclass(frozen=True)
class Price:
    """What a number costs, in ``currency``. ``initial_month_price`` is the prorated charge for
    the current month (only on some answers); every amount may be ``None`` when absent."""

    price_per_month: Decimal | None
    setup_price: Decimal | None
    initial_month_price: Decimal | None
    currency: str | None

    @classmethod
    def from_api(cls, raw: object) -> Price | None:
        if not isinstance(raw, Mapping):
            return None
        return cls(
            price_per_month=parse_decimal(raw.get("pricePerMonth")),
            setup_price=parse_decimal(raw.get("setupPrice")),
            initial_month_price=parse_decimal(raw.get("initialMonthPrice")),
            currency=_str(raw, "currency"),
        )


@dataclass(frozen=True)
class InfobipNumber:
    """A number, available or owned. ``number`` is digits with the country code, no ``+``;
    ``number_key`` is Infobip's opaque id (it may contain ``%``: the client URL-encodes it)."""

    number_key: str
    number: str
    country: str | None
    type: str | None
    capabilities: list[str]
    shared: bool | None
    price: Price | None
    application_id: str | None = None
    entity_id: str | None = None
    country_name: str | None = None
    network: str | None = None
    raw: Raw = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw: Raw) -> InfobipNumber:
        country = _str(raw, "country")
        return cls(
            number_key=_str(raw, "numberKey") or "",
            number=digits(_str(raw, "number") or ""),
            country=country.upper() if country else None,
            type=_str(raw, "type"),
            capabilities=_capabilities(raw.get("capabilities")),
            shared=_bool(raw.get("shared")),
            price=Price.from_api(raw.get("price")),
            application_id=_str(raw, "applicationId"),
            entity_id=_str(raw, "entityId"),
            country_name=_str(raw, "countryName"),
            network=_str(raw, "network"),
            raw=dict(raw),
        )

    def has(self, *capabilities: str) -> bool:
        """True if the number offers every capability given (``has("SMS", "VOICE")``)."""
        return all(c.upper() in self.capabilities for c in capabilities)


@dataclass(frozen=True)
class NumberPage:
    """One page of a list answer: ``number_count`` is the total across all pages."""

    numbers: list[InfobipNumber]
    number_count: int
    page: int
    limit: int

    @property
    def has_more(self) -> bool:
        return bool(self.numbers) and (self.page + 1) * self.limit < self.number_count

    @classmethod
    def from_api(cls, raw: Raw, *, page: int, limit: int) -> NumberPage:
        rows = raw.get("numbers")
        numbers = [
            InfobipNumber.from_api(row)
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, Mapping)
        ]
        count = raw.get("numberCount")
        if isinstance(count, bool) or not isinstance(count, int | float | str | Decimal):
            total = len(numbers)
        else:
            try:
                total = int(count)
            except (ValueError, ArithmeticError):
                total = len(numbers)
        return cls(numbers=numbers, number_count=total, page=page, limit=limit)

"""In-memory, thread-safe state of the Infobip sandbox: numbers for sale and numbers owned.

Every public method takes the lock, so HTTP handler threads and test helpers can mix freely.
"""

from __future__ import annotations

import calendar
import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "COUNTRY_NAMES",
    "NumberRecord",
    "Store",
    "default_inventory",
    "number_key_for",
    "render",
]

COUNTRY_NAMES = {
    "DE": "Germany",
    "GB": "United Kingdom",
    "NO": "Norway",
    "RU": "Russian Federation",
    "SE": "Sweden",
    "US": "United States",
}


@dataclass(frozen=True)
class NumberRecord:
    number_key: str
    number: str  # digits, country code first, no "+"
    country: str
    type: str
    capabilities: tuple[str, ...]
    shared: bool
    price_per_month: Decimal
    setup_price: Decimal
    currency: str
    application_id: str | None = None
    entity_id: str | None = None


def number_key_for(number: str) -> str:
    """A stable 32-hex key, so a reset sandbox hands out the same keys every time."""
    return hashlib.md5(f"infobip-sandbox:{number}".encode()).hexdigest().upper()


def initial_month_price(per_month: Decimal, today: date | None = None) -> Decimal:
    """The prorated charge for the rest of this month, today included (six places, like
    Infobip's ``9.193549``)."""
    today = today or datetime.now(UTC).date()
    days = calendar.monthrange(today.year, today.month)[1]
    left = days - today.day + 1
    return (per_month * left / days).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _rows(
    country: str,
    numbers: Iterable[str],
    capabilities: Sequence[str],
    per_month: str,
    setup: str = "0",
    number_type: str = "VIRTUAL_LONG_NUMBER",
) -> list[NumberRecord]:
    return [
        NumberRecord(
            number_key=number_key_for(n),
            number=n,
            country=country,
            type=number_type,
            capabilities=tuple(capabilities),
            shared=False,
            price_per_month=Decimal(per_month),
            setup_price=Decimal(setup),
            currency="EUR",
        )
        for n in numbers
    ]


def default_inventory() -> list[NumberRecord]:
    """A realistic catalogue: several countries, mixed capabilities, types and prices (EUR)."""
    rows: list[NumberRecord] = []
    se = [f"4676943600{n}" if n < 10 else f"467694360{n}" for n in range(1, 13)]
    rows += _rows("SE", se[::2], ("SMS", "VOICE"), "10")
    rows += _rows("SE", se[1::2], ("SMS",), "8.50")
    rows += _rows("NO", [f"47594400{n:02d}" for n in range(1, 7)], ("SMS",), "12", "5")
    rows += _rows("GB", [f"4478600411{n:02d}" for n in range(10, 18)], ("SMS",), "5")
    rows += _rows("GB", [f"4474181000{n:02d}" for n in range(1, 5)], ("SMS", "VOICE"), "6.5")
    rows += _rows(
        "US", [f"1415523{n:04d}" for n in range(101, 109)], ("SMS", "VOICE", "MMS"), "1.5"
    )
    rows += _rows(
        "US", [f"1833555{n:04d}" for n in range(1, 5)], ("SMS", "VOICE"), "2.5", "0", "TOLL_FREE"
    )
    rows += _rows("DE", [f"49157923400{n:02d}" for n in range(1, 4)], ("SMS", "VOICE"), "8.5", "10")
    rows += _rows("DE", [f"4930255500{n:02d}" for n in range(1, 4)], ("VOICE",), "3", "10")
    # The two samples from Infobip's own docs, keys included (one holds a "%").
    ru = _rows("RU", ["79029555551", "79029555525"], ("SMS",), "15")
    rows += [
        replace(ru[0], number_key="78D8394AC3EG0460B4CF0E723FC31B49"),
        replace(ru[1], number_key="3B9D1EACAB7FBDRN%EE03592BFCD6BE"),
    ]
    return rows


class Store:
    def __init__(self, inventory: Sequence[NumberRecord] | None = None) -> None:
        self.lock = threading.RLock()
        self._initial = list(inventory) if inventory is not None else default_inventory()
        self.available: dict[str, NumberRecord] = {}
        self.owned: dict[str, NumberRecord] = {}  # insertion order = purchase order
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.available = {r.number_key: r for r in self._initial}
            self.owned = {}

    # -- inventory ---------------------------------------------------------------------------

    def add_available(
        self,
        country: str,
        numbers: Iterable[str],
        capabilities: Sequence[str] = ("SMS",),
        prices: Mapping[str, Any] | None = None,
        *,
        number_type: str = "VIRTUAL_LONG_NUMBER",
        shared: bool = False,
        keys: Sequence[str] | None = None,
    ) -> list[str]:
        prices = dict(prices or {})
        per_month = prices.get("pricePerMonth", prices.get("price_per_month", "5"))
        setup = prices.get("setupPrice", prices.get("setup_price", "0"))
        currency = str(prices.get("currency", "EUR"))
        numbers = ["".join(ch for ch in str(n) if ch.isdigit()) for n in numbers]
        if keys is not None and len(keys) != len(numbers):
            raise ValueError("give one key per number")
        created = []
        with self.lock:
            for index, number in enumerate(numbers):
                key = keys[index] if keys is not None else number_key_for(number)
                if key in self.available or key in self.owned:
                    raise ValueError(f"number key {key} already exists")
                self.available[key] = NumberRecord(
                    number_key=key,
                    number=number,
                    country=country.upper(),
                    type=number_type,
                    capabilities=tuple(c.upper() for c in capabilities),
                    shared=shared,
                    price_per_month=Decimal(str(per_month)),
                    setup_price=Decimal(str(setup)),
                    currency=currency,
                )
                created.append(key)
        return created

    def clear_available(self, country: str | None = None) -> None:
        with self.lock:
            self.available = {
                k: r
                for k, r in self.available.items()
                if country is not None and r.country != country.upper()
            }

    def search(
        self, *, country: str, capabilities: Sequence[str], number: str | None
    ) -> list[NumberRecord]:
        with self.lock:
            rows = [
                r
                for r in self.available.values()
                if r.country == country
                and all(c in r.capabilities for c in capabilities)
                and (not number or number in r.number)
            ]
        return sorted(rows, key=lambda r: r.number)

    # -- owned -------------------------------------------------------------------------------

    def list_owned(self, number: str | None = None) -> list[NumberRecord]:
        with self.lock:
            return [r for r in self.owned.values() if not number or number in r.number]

    def get_owned(self, key: str) -> NumberRecord | None:
        with self.lock:
            return self.owned.get(key)

    def find_available(
        self, *, key: str | None = None, number: str | None = None
    ) -> NumberRecord | None:
        with self.lock:
            if key is not None:
                return self.available.get(key)
            return next((r for r in self.available.values() if r.number == number), None)

    def buy(
        self, key: str, *, application_id: str | None, entity_id: str | None
    ) -> NumberRecord | None:
        """Move a number from sale to owned; ``None`` if it is not (or no longer) for sale."""
        with self.lock:
            record = self.available.pop(key, None)
            if record is None:
                return None
            record = replace(
                record, application_id=application_id or "default", entity_id=entity_id
            )
            self.owned[key] = record
            return record

    def update(self, key: str, changes: Mapping[str, str | None]) -> NumberRecord | None:
        with self.lock:
            record = self.owned.get(key)
            if record is None:
                return None
            record = replace(record, **changes)
            self.owned[key] = record
            return record

    def release(self, key: str) -> bool:
        """Cancel an owned number: it goes back on sale, without our settings."""
        with self.lock:
            record = self.owned.pop(key, None)
            if record is None:
                return False
            self.available[key] = replace(record, application_id=None, entity_id=None)
            return True


def render(record: NumberRecord, *, owned: bool, initial_price: bool = True) -> dict[str, Any]:
    """A number as Infobip writes it. The docs' single-number answers (purchase, GET one) carry
    no ``initialMonthPrice``; the lists do: ``initial_price`` follows that."""
    price: dict[str, Any] = {
        "pricePerMonth": record.price_per_month,
        "setupPrice": record.setup_price,
    }
    if initial_price:
        price["initialMonthPrice"] = initial_month_price(record.price_per_month)
    price["currency"] = record.currency
    body: dict[str, Any] = {
        "numberKey": record.number_key,
        "number": record.number,
        "country": record.country,
        "countryName": COUNTRY_NAMES.get(record.country, record.country),
        "type": record.type,
        "capabilities": list(record.capabilities),
        "shared": record.shared,
        "price": price,
    }
    if owned:
        body["applicationId"] = record.application_id or "default"
        if record.entity_id is not None:
            body["entityId"] = record.entity_id
    return body

"""Filters for the staff plan pages: unit prices keep their 1/10000 digits."""

from __future__ import annotations

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def unit_price(value: int | None, currency: str = "") -> str:
    """A per-unit price: two decimals, or four when the price has fractions of an öre."""
    if value is None:
        return "—"
    value = int(value)
    if value % 100 == 0:
        return format_money(value, currency)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10_000)
    return f"{sign}{whole:,}.{frac:04d} {currency}".replace(",", "\u202f").strip()


@register.filter
def percent_bp(value: int | None) -> str:
    """Basis points as a percentage: 2500 → 25%, 1250 → 12.5%."""
    if value is None:
        return "—"
    text = f"{int(value) / 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"

"""Formatting for templates. Money arrives as integers in 1/10000 of the currency unit."""

from __future__ import annotations

from django import template

register = template.Library()

UNIT = 10_000


def format_money(value: int | None, currency: str = "") -> str:
    if value is None or value == "":
        return "—"
    value = int(value)
    sign = "-" if value < 0 else ""
    # Round half up to whole hundredths with integer arithmetic only.
    cents = (abs(value) + 50) // 100
    whole, frac = divmod(cents, 100)
    text = f"{sign}{whole:,}.{frac:02d}".replace(",", "\u202f")
    return f"{text} {currency}".strip()


@register.filter
def money(value: int | None, currency: str = "") -> str:
    """`{{ tenant.usage|money:tenant.currency }}` → `12 345.60 SEK`."""
    return format_money(value, currency)


@register.filter
def percent_of(value: int | None, total: int | None) -> int:
    """Whole percent of `total`, clamped to 0..100 (for progress bars)."""
    if not value or not total or total <= 0:
        return 100 if (value and (not total or total <= 0)) else 0
    return max(0, min(100, int(value) * 100 // int(total)))


@register.filter
def phone(value: str | None) -> str:
    """E.164 for humans: `+46766861475` → `+46 76 686 14 75`."""
    if not value:
        return "—"
    from numbers.phone import for_humans

    return for_humans(value)


@register.filter
def get_item(mapping: dict | None, key: object) -> object:
    return (mapping or {}).get(key)

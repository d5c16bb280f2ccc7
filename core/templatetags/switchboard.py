"""Template filters (`{% load switchboard %}`). Python code formats money with core.money."""

from __future__ import annotations

from django import template

from core.money import format_money
from core.phone import for_humans

register = template.Library()


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
    return for_humans(value)


@register.filter
def get_item(mapping: dict | None, key: object) -> object:
    return (mapping or {}).get(key)

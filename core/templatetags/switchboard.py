"""Template filters (`{% load switchboard %}`). Python code formats money with core.money."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.html import format_html

from core.money import format_money
from core.phone import for_humans

register = template.Library()


@register.filter
def money(value: int | None, currency: str = "") -> str:
    """`{{ tenant.usage|money:tenant.currency }}` → `12 345.60 SEK`."""
    return format_money(value, currency)


@register.simple_tag
def cost(value: int | None, currency: str = "", pending: bool = False) -> str:
    """A reported cost, or why there is none: `{% cost m.cost currency m.cost_pending %}`.

    Unknown is never shown as 0.00 (a real zero is): "pending" while the provider may still
    report it, "—" where no cost is expected. A sum with costs still to come says so."""
    if value is None:
        if pending:
            return format_html(
                '<span class="cost-pending" title="{}">pending</span>',
                "The provider has not reported this cost yet",
            )
        return format_html('<span title="{}">—</span>', "No cost reported")
    if pending:
        return format_html(
            '{} <small class="cost-pending" title="{}">+ pending</small>',
            format_money(value, currency),
            "Some costs are not reported by the provider yet",
        )
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


@register.filter
def thousands(value: int | None) -> str:
    """`1234567` → `1 234 567`, grouped as money is (narrow no-break spaces)."""
    if value is None:
        return "—"
    return f"{int(value):,}".replace(",", "\u202f")


@register.filter
def age(value: timedelta | None) -> str:
    """How long something has waited, to the second while that matters: `3 min 12 s`,
    `2 h 5 min`, `3 days 4 h`."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


@register.filter
def per_second(value: float | None) -> str:
    """A rate with the decimals it needs not to read as 0: `0.0033`, `0.5`, `2.5`, `1 250`."""
    if not value:
        return "0"
    if value < 1:
        return f"{value:.2g}"  # the smallest non-zero rate shown is 1 in 5 min: 0.0033
    if value < 10:
        return f"{value:.1f}".removesuffix(".0")
    return thousands(round(value))

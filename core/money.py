"""Money arrives as integers in 1/10000 of the currency unit; this turns it into text."""

from __future__ import annotations

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

"""Phone numbers in E.164, via Google's libphonenumber (the `phonenumbers` package)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError


def to_e164(value: str, *, region: str | None = None) -> str:
    """Normalise a number typed by a person; `region` (e.g. "SE") allows national format."""
    try:
        parsed = phonenumbers.parse(value, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{value}” is not a phone number.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"“{value}” is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def for_humans(e164: str) -> str:
    """`+46766861475` → `+46 76 686 14 75`; anything unparsable is shown as it is."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

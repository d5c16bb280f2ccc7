"""Choices for the long pickers: countries by name with their calling code, and time zones
grouped by region, labelled with their city and current UTC offset.

Validation stays the ChoiceField's: a value not offered is refused with the field's message.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django import forms
from django.utils import timezone
from django_countries import countries

from messaging.time_zones import CANONICAL_ZONES

Choices = list[tuple[str, str]]
GroupedChoices = list[tuple[str, Choices]]


def _sort_key(label: str) -> str:
    # "Åland Islands" sorts with the A's, not after Zimbabwe.
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


# Regions libphonenumber parses that ISO 3166 (so django-countries) does not name.
EXTRA_NAMES = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo"}


def country_label(region: str) -> str:
    """ "SE" → "Sweden (+46)"."""
    name = countries.name(region) or EXTRA_NAMES.get(region, region)
    return f"{name} (+{phonenumbers.country_code_for_region(region)})"


class CountryField(forms.ChoiceField):
    """A country picker that also takes the code in lower case ("se", as stored elsewhere)."""

    def to_python(self, value: object) -> str:
        return super().to_python(value).strip().upper()


def country_choices(*, first: str = "") -> Choices:
    """Every region libphonenumber can parse numbers for, by name; `first` (the tenant's
    default) at the top."""
    choices = sorted(
        ((r, country_label(r)) for r in phonenumbers.SUPPORTED_REGIONS),
        key=lambda choice: _sort_key(choice[1]),
    )
    top = [c for c in choices if c[0] == first.upper()]
    return top + [c for c in choices if c[0] != first.upper()]


def zone_label(zone: str, *, now: datetime | None = None) -> str:
    """ "Europe/Stockholm" → "(UTC+01:00) Stockholm", with the offset in force `now`."""
    offset = (now or timezone.now()).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"(UTC{sign}{hours:02d}:{mins:02d}) {city}"


def zone_choices(*, current: str = "", now: datetime | None = None) -> GroupedChoices:
    """The curated zones grouped by region (Africa, America, …), each group by offset then
    city; UTC on its own. A `current` value outside the list that ZoneInfo still knows (stored
    before the list existed) is offered too, so saving a form never changes it unasked."""
    at = now or timezone.now()
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for zone in CANONICAL_ZONES:
        region = zone.split("/", 1)[0]
        offset = at.astimezone(ZoneInfo(zone)).utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        groups.setdefault(region, []).append((seconds, zone_label(zone, now=at), zone))
    grouped: GroupedChoices = [("Universal", [("UTC", "(UTC+00:00) UTC")])]
    for region in sorted(groups):
        rows = sorted(groups[region], key=lambda row: (row[0], _sort_key(row[1])))
        grouped.append((region, [(zone, label) for _, label, zone in rows]))
    if current and current != "UTC" and current not in CANONICAL_ZONES and zone_known(current):
        grouped.insert(0, ("Your current setting", [(current, f"{current} (kept as it is)")]))
    return grouped


def zone_known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True

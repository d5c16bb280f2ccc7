"""Contacts and contact lists: the filtered, keyset-paginated list and lists with counts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet

from core.pagination import KeysetPage, keyset_page
from core.phone import to_e164
from messaging.contacts.models import Contact, ContactList

PAGE_SIZE = 50


def contact_names(phones: Iterable[str]) -> dict[str, str]:
    """The contact name of each of these numbers that has one, in one query (tenant-scoped):
    pages show "Anna Berg +46 70 …" wherever a number belongs to a contact."""
    wanted = {phone for phone in phones if phone}
    if not wanted:
        return {}
    named = Contact.objects.filter(phone__in=wanted).exclude(name="")
    return dict(named.values_list("phone", "name"))


def contact_phones_named(q: str) -> QuerySet[Contact]:
    """The numbers of contacts whose name contains `q` (a subquery for searches)."""
    return Contact.objects.filter(name__icontains=q).values("phone")


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    list_id: int | None = None
    opted_out: bool | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ContactFilters:
        raw_list = (query.get("list") or "").strip()
        state = (query.get("opted_out") or "").strip()
        return cls(
            q=(query.get("q") or "").strip()[:100],
            list_id=int(raw_list) if raw_list.isdigit() else None,
            opted_out={"yes": True, "no": False}.get(state),
        )

    @property
    def active(self) -> bool:
        return bool(self.q) or self.list_id is not None or self.opted_out is not None


def contacts_filtered(filters: ContactFilters, *, region: str = "") -> QuerySet[Contact]:
    """Contacts matching a search (number digits, a typed number, or the name) and filters."""
    qs = Contact.objects.all()
    if filters.q:
        match = Q(name__icontains=filters.q)
        digits = "".join(ch for ch in filters.q if ch.isdigit())
        if len(digits) >= 3:
            match |= Q(phone__contains=digits.lstrip("0") or digits)
        with contextlib.suppress(ValidationError):
            match |= Q(phone=to_e164(filters.q, region=region or None))
        qs = qs.filter(match)
    if filters.list_id is not None:
        qs = qs.filter(contactlistmember__contact_list_id=filters.list_id)
    if filters.opted_out is not None:
        qs = qs.filter(opted_out=filters.opted_out)
    return qs


def contact_page(
    filters: ContactFilters, *, cursor: str | None, region: str = "", size: int = PAGE_SIZE
) -> KeysetPage:
    """Newest first on the contact_recent index (tenant, -created, -id)."""
    qs = contacts_filtered(filters, region=region).prefetch_related(
        Prefetch("lists", queryset=ContactList.objects.order_by("name"))
    )
    return keyset_page(qs, cursor=cursor, size=size)


def lists_with_counts() -> QuerySet[ContactList]:
    return ContactList.objects.annotate(members=Count("contactlistmember")).order_by("name")

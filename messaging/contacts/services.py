"""Contacts and contact lists: writes and the streamed CSV export (reads: selectors.py).

Everything runs inside a tenant scope (a request's or a task's), so the default managers
filter on the tenant. A contact's `opted_out` mirrors the opt-out ledger: it is set from the
ledger when a contact is created and is never cleared or set from a form here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from accounts.models import Tenant
from core.csv_export import csv_lines, csv_response
from messaging.contacts.models import Contact, ContactList, ContactListMember
from messaging.services import opted_out

EXPORT_CHUNK = 2000
EXPORT_HEADER = ("phone", "name", "opted_out", "lists", "fields", "created")


class ContactError(Exception):
    """A write refused for a reason fit for the page."""


# --- contacts ---------------------------------------------------------------------------------


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).strip(): str(v) for k, v in fields.items() if str(k).strip()}


def contact_create(
    *,
    tenant: Tenant,
    phone: str,
    name: str = "",
    fields: Mapping[str, Any] | None = None,
    lists: Iterable[ContactList] = (),
) -> Contact:
    """A new contact (phone already E.164); its opt-out state comes from the ledger."""
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                tenant=tenant,
                phone=phone,
                name=name.strip(),
                fields=_clean_fields(fields or {}),
                opted_out=phone in opted_out(tenant, [phone]),
            )
            contact.lists.set(list(lists))
    except IntegrityError as exc:
        raise ContactError(f"A contact with the number {phone} already exists.") from exc
    return contact


def contact_update(
    *,
    contact: Contact,
    phone: str,
    name: str,
    fields: Mapping[str, Any],
    lists: Iterable[ContactList] | None = None,
) -> Contact:
    changed_phone = phone != contact.phone
    contact.phone = phone
    contact.name = name.strip()
    contact.fields = _clean_fields(fields)
    contact.updated = timezone.now()
    if changed_phone:
        contact.opted_out = phone in opted_out(contact.tenant, [phone])
    try:
        with transaction.atomic():
            contact.save()
            if lists is not None:
                contact.lists.set(list(lists))
    except IntegrityError as exc:
        raise ContactError(f"A contact with the number {phone} already exists.") from exc
    return contact


def contact_delete(*, contact: Contact) -> None:
    contact.delete()


# --- lists ------------------------------------------------------------------------------------


def list_create(*, tenant: Tenant, name: str) -> ContactList:
    try:
        with transaction.atomic():
            return ContactList.objects.create(tenant=tenant, name=name.strip())
    except IntegrityError as exc:
        raise ContactError(f"There is already a list called “{name.strip()}”.") from exc


def list_rename(*, contact_list: ContactList, name: str) -> ContactList:
    contact_list.name = name.strip()
    try:
        with transaction.atomic():
            contact_list.save(update_fields=["name"])
    except IntegrityError as exc:
        raise ContactError(f"There is already a list called “{name.strip()}”.") from exc
    return contact_list


def list_delete(*, contact_list: ContactList) -> None:
    """Deletes the list and its memberships; the contacts stay."""
    contact_list.delete()


def list_add_contacts(*, contact_list: ContactList, contact_ids: Sequence[int]) -> int:
    """Add the tenant's contacts among `contact_ids`; returns how many were new members."""
    ids = list(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
    before = ContactListMember.objects.filter(contact_list=contact_list).count()
    ContactListMember.objects.bulk_create(
        [ContactListMember(contact_list=contact_list, contact_id=i) for i in ids],
        ignore_conflicts=True,
    )
    return ContactListMember.objects.filter(contact_list=contact_list).count() - before


def list_remove_contacts(*, contact_list: ContactList, contact_ids: Sequence[int]) -> int:
    removed, _ = ContactListMember.objects.filter(
        contact_list=contact_list, contact_id__in=contact_ids
    ).delete()
    return removed


# --- export -----------------------------------------------------------------------------------


def _export_rows(qs: QuerySet[Contact]) -> Iterator[Sequence[Any]]:
    """Rows in chunks; list names come from the (unscoped) membership table per chunk.

    The response streams after the request's tenant scope has ended, so nothing here may build
    a new tenant-owned queryset: `qs` was built inside the scope, and ContactListMember is
    reached only through contacts of that queryset.
    """
    fields = ("pk", "phone", "name", "opted_out", "fields", "created")
    batch: list[tuple[Any, ...]] = []
    for row in qs.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        batch.append(row)
        if len(batch) >= EXPORT_CHUNK:
            yield from _export_batch(batch)
            batch = []
    yield from _export_batch(batch)


def _export_batch(batch: list[tuple[Any, ...]]) -> Iterator[Sequence[Any]]:
    if not batch:
        return
    names: dict[int, list[str]] = {}
    for contact_id, list_name in (
        ContactListMember.objects.filter(contact_id__in=[row[0] for row in batch])
        .order_by("contact_list__name")
        .values_list("contact_id", "contact_list__name")
    ):
        names.setdefault(contact_id, []).append(list_name)
    for pk, phone, name, is_out, fields, created in batch:
        yield (
            phone,
            name,
            "yes" if is_out else "no",
            "; ".join(names.get(pk, [])),
            json.dumps(fields or {}, ensure_ascii=False, sort_keys=True),
            created,
        )


def contacts_csv(*, contacts: QuerySet[Contact], filename: str) -> StreamingHttpResponse:
    """Streamed CSV of `contacts` (already filtered and scoped), newest first."""
    qs = contacts.order_by("-created", "-id")
    return csv_response(csv_lines(EXPORT_HEADER, _export_rows(qs)), filename)

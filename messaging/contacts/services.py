"""Contacts and contact lists: writes and the streamed CSV export (reads: selectors.py).

Everything runs inside a tenant scope (a request's or a task's), so the default managers
filter on the tenant. A contact's `opted_out` mirrors the opt-out ledger: it is set from the
ledger when a contact is created and is never cleared or set from a form here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from accounts.models import Tenant
from core.csv_export import csv_lines, csv_response
from core.phone import to_e164
from messaging.contacts.models import Contact, ContactList, ContactListMember
from messaging.services import opted_out, settings_for

EXPORT_CHUNK = 2000
EXPORT_HEADER = ("phone", "name", "opted_out", "lists", "fields", "created")


class ContactError(Exception):
    """A write refused for a reason fit for the page."""


# --- contacts ---------------------------------------------------------------------------------


# The contact page's rules for custom fields (forms.FieldRowForm, BaseFieldRowFormSet).
BUILT_IN_FIELDS = ("phone", "name", "first_name", "last_name")
FIELD_KEY_MAX = 50
FIELD_VALUE_MAX = 500
FIELDS_MAX = 50
NAME_MAX = 150


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).strip(): str(v) for k, v in fields.items() if str(k).strip()}


def contact_phone(*, tenant: Tenant, raw: str) -> str:
    """E.164 for a number as typed, national format read in the tenant's default country."""
    try:
        return to_e164(raw.strip(), region=settings_for(tenant).default_country)
    except ValidationError as exc:
        raise ContactError(exc.messages[0]) from exc


def fields_check(fields: Mapping[str, Any]) -> dict[str, str]:
    """Custom fields held to the rules the contact page applies; refused with a reason."""
    cleaned = _clean_fields(fields)
    if len(cleaned) > FIELDS_MAX:
        raise ContactError(f"At most {FIELDS_MAX} custom fields.")
    for key, value in cleaned.items():
        if key in BUILT_IN_FIELDS:
            raise ContactError(f"“{key}” is built in; choose another field name.")
        if len(key) > FIELD_KEY_MAX:
            raise ContactError(f"Field names have at most {FIELD_KEY_MAX} characters.")
        if len(value) > FIELD_VALUE_MAX:
            raise ContactError(f"The field “{key}” is longer than {FIELD_VALUE_MAX} characters.")
    return cleaned


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


# --- bulk upsert ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    """One contact of a bulk upsert as given: None leaves an existing contact's value alone."""

    phone: str
    name: str | None = None
    fields: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RowError:
    row: int  # the row's index in the request, from 0
    field: str
    message: str


class ContactRowsError(ContactError):
    """Rows refused: nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} row{'s' if len(errors) != 1 else ''} refused.")
        self.errors = errors


@dataclass(frozen=True)
class Upserted:
    row: int
    contact_id: int
    phone: str
    created: bool
    opted_out: bool


@dataclass(frozen=True)
class _Parsed:
    row: int
    phone: str
    name: str | None
    fields: dict[str, str] | None


def _rows_parse(tenant: Tenant, rows: Sequence[ContactRow]) -> list[_Parsed]:
    """Every row normalised and checked (no writes); all refusals at once, by row."""
    errors: list[RowError] = []
    parsed: list[_Parsed] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        try:
            phone = contact_phone(tenant=tenant, raw=row.phone)
        except ContactError as exc:
            errors.append(RowError(i, "phone", str(exc)))
            continue
        if phone in first_row:
            errors.append(RowError(i, "phone", f"{phone} is also on row {first_row[phone]}."))
            continue
        first_row[phone] = i
        name = row.name.strip() if row.name is not None else None
        if name is not None and len(name) > NAME_MAX:
            errors.append(RowError(i, "name", f"Names have at most {NAME_MAX} characters."))
            continue
        try:
            fields = fields_check(row.fields) if row.fields is not None else None
        except ContactError as exc:
            errors.append(RowError(i, "fields", str(exc)))
            continue
        parsed.append(_Parsed(row=i, phone=phone, name=name, fields=fields))
    if errors:
        raise ContactRowsError(errors)
    return parsed


def contacts_upsert(
    *, tenant: Tenant, rows: Sequence[ContactRow], lists: Iterable[ContactList] = ()
) -> list[Upserted]:
    """Create or update contacts by phone, all or nothing (ContactRowsError names each
    refused row); every row is added to `lists`.

    The rules of the contact page and the CSV import: numbers in E.164 (national ones in the
    tenant's default country); a given name replaces the name, given fields are merged into
    the existing ones; a new contact's opt-out state comes from the ledger, an existing one's
    is never changed here (so no upsert re-subscribes anyone).
    """
    parsed = _rows_parse(tenant, rows)
    phones = [p.phone for p in parsed]
    now = timezone.now()
    with transaction.atomic():
        existing = {
            c.phone: c
            for c in Contact.objects.select_for_update()
            .filter(phone__in=phones)
            .only("phone", "name", "fields")
        }
        blocked = opted_out(tenant, [p for p in phones if p not in existing])
        upserts: list[Contact] = []
        for item in parsed:
            old = existing.get(item.phone)
            name = item.name if item.name is not None else (old.name if old else "")
            fields = {**((old.fields or {}) if old else {}), **(item.fields or {})}
            upserts.append(
                Contact(
                    tenant=tenant,
                    phone=item.phone,
                    name=name,
                    fields=fields,
                    opted_out=item.phone in blocked,
                    created=now,
                    updated=now,
                )
            )
        if upserts:
            Contact.objects.bulk_create(
                upserts,
                update_conflicts=True,
                unique_fields=["tenant", "phone"],
                update_fields=["name", "fields", "updated"],
            )
        saved = {
            phone: (pk, is_out)
            for phone, pk, is_out in Contact.objects.filter(phone__in=phones).values_list(
                "phone", "pk", "opted_out"
            )
        }
        members = [
            ContactListMember(contact_list=contact_list, contact_id=saved[phone][0])
            for contact_list in lists
            for phone in phones
        ]
        ContactListMember.objects.bulk_create(members, ignore_conflicts=True)
    return [
        Upserted(
            row=item.row,
            contact_id=saved[item.phone][0],
            phone=item.phone,
            created=item.phone not in existing,
            opted_out=saved[item.phone][1],
        )
        for item in parsed
    ]


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

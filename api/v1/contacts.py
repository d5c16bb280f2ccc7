"""/api/v1/contacts/: contacts (list, get, create, update, delete, bulk upsert) and contact
lists (list, get, create, rename, delete, add and remove members).

Every write goes through messaging.contacts.services, as on the Contacts pages: numbers in
E.164 (national ones read in the tenant's default country), custom fields held to the page's
rules, the opt-out state mirrored from the ledger and never set here. Reads need the `read`
scope, writes `send`. The middleware has entered the key's tenant scope, so another tenant's
id is simply not found (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import StringConstraints

from api.errors import ApiDenied, problem, scope_require
from api.request_types import KeyRequest
from api.v1.inputs import MAX_ID, NO_NUL, PAGE_DEFAULT, PAGE_MAX, ObjectId, Unicode, cursor_check
from api.v1.schemas import ERRORS, Cursor, Problem
from core.pagination import keyset_page
from messaging.contacts.models import Contact, ContactList
from messaging.contacts.selectors import ContactFilters, contact_page, lists_with_counts
from messaging.contacts.services import (
    NAME_MAX,
    ContactError,
    ContactRow,
    ContactRowsError,
    contact_create,
    contact_delete,
    contact_phone,
    contact_update,
    contacts_upsert,
    fields_check,
    list_add_contacts,
    list_create,
    list_delete,
    list_remove_contacts,
    list_rename,
)
from messaging.services import settings_for

router = Router(tags=["Contacts"])

BULK_MAX = 1000
MEMBERS_MAX = 1000
LISTS_MAX = 100

Phone = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=NO_NUL), Unicode]
Name = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=NO_NUL), Unicode]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL), Unicode]
FieldValue = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL), Unicode]
Fields = Annotated[dict[FieldKey, FieldValue], Field(max_length=50)]
ListIds = Annotated[list[ObjectId], Field(max_length=LISTS_MAX)]
ListName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL),
    Unicode,
]
Search = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL), Unicode]
CursorParam = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL), Unicode]
ContactId = Annotated[int, Path(ge=1, le=MAX_ID)]
ListId = Annotated[int, Path(ge=1, le=MAX_ID)]


# --- schemas ----------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    phone: str = Field(description="E.164")
    name: str
    fields: dict[str, str] = Field(description="Custom fields, for campaign placeholders.")
    opted_out: bool = Field(description="The number's latest opt-out entry is an opt-out.")
    lists: list[int] = Field(description="Ids of the lists the contact is on.")
    created: datetime
    updated: datetime


class ContactPage(Cursor):
    items: list[ContactOut]


class ContactQuery(Schema):
    search: Search | None = Field(None, description="Part of the name or the number.")
    list_id: ObjectId | None = Field(None, alias="list", description="Only this list's members.")
    opted_out: bool | None = None
    cursor: CursorParam | None = Field(None, description="`next` of the previous page.")
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)


class ContactIn(Schema):
    phone: Phone = Field(description="E.164, or national format in your default country.")
    name: Name = ""
    fields: Fields = Field(default_factory=dict)
    lists: ListIds = Field(default_factory=list)


class ContactPatch(Schema):
    """Only what is given changes; `fields` replaces all custom fields, `lists` all lists."""

    phone: Phone | None = None
    name: Name | None = None
    fields: Fields | None = None
    lists: ListIds | None = None


class BulkRowIn(Schema):
    phone: Phone
    name: Name | None = Field(None, description="Replaces the name; omitted: kept.")
    fields: Fields | None = Field(None, description="Merged into the existing custom fields.")


class BulkIn(Schema):
    contacts: Annotated[list[BulkRowIn], Field(min_length=1, max_length=BULK_MAX)]
    lists: ListIds = Field(default_factory=list, description="Add every contact to these lists.")


class BulkRowOut(Schema):
    row: int
    id: int
    phone: str
    status: Literal["created", "updated"]
    opted_out: bool


class BulkOut(Schema):
    created: int
    updated: int
    contacts: list[BulkRowOut]


class RowError(Schema):
    row: int | None = Field(None, description="Index of the refused row in `contacts`.")
    field: str | None = None
    message: str | None = None


class RowsProblem(Problem):
    """422: every refused row with its reason; nothing was written."""

    errors: list[RowError] = Field(default_factory=list)


class ListOut(Schema):
    id: int
    name: str
    members: int
    created: datetime


class ListPage(Cursor):
    items: list[ListOut]


class ListQuery(Schema):
    cursor: CursorParam | None = None
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)


class ListIn(Schema):
    name: ListName


class MembersIn(Schema):
    contacts: Annotated[list[ObjectId], Field(min_length=1, max_length=MEMBERS_MAX)]


class MembersAdded(Schema):
    added: int = Field(description="Contacts that were not members before.")
    members: int


class MembersRemoved(Schema):
    removed: int
    members: int


# --- helpers ----------------------------------------------------------------------------------


def _out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.pk,
        phone=contact.phone,
        name=contact.name,
        fields={str(k): str(v) for k, v in (contact.fields or {}).items()},
        opted_out=contact.opted_out,
        lists=sorted(cl.pk for cl in contact.lists.all()),
        created=contact.created,
        updated=contact.updated,
    )


def _list_out(contact_list: ContactList) -> ListOut:
    members = getattr(contact_list, "members", None)
    if members is None:
        members = contact_list.contacts.count()
    return ListOut(
        id=contact_list.pk, name=contact_list.name, members=members, created=contact_list.created
    )


def _lists(ids: list[int]) -> list[ContactList]:
    """The tenant's lists with these ids; 422 naming any that is not one of them."""
    found = {cl.pk: cl for cl in ContactList.objects.filter(pk__in=ids)}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise ApiDenied(422, f"lists: no list with id {', '.join(map(str, missing))}.")
    return [found[i] for i in dict.fromkeys(ids)]


def _contact_ids(ids: list[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    found = set(Contact.objects.filter(pk__in=unique).values_list("pk", flat=True))
    missing = [i for i in unique if i not in found]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
        raise ApiDenied(422, f"contacts: no contact with id {shown}.")
    return unique


def _phone(request: KeyRequest, raw: str) -> str:
    try:
        return contact_phone(tenant=request.tenant, raw=raw)
    except ContactError as exc:
        raise ApiDenied(422, f"phone: {exc}") from exc


def _fields(raw: dict[str, str]) -> dict[str, str]:
    try:
        return fields_check(raw)
    except ContactError as exc:
        raise ApiDenied(422, f"fields: {exc}") from exc


def _contact(contact_id: int) -> Contact:
    return get_object_or_404(Contact.objects.prefetch_related("lists"), pk=contact_id)


# --- contacts ---------------------------------------------------------------------------------


@router.get("", response={200: ContactPage, **ERRORS}, summary="List contacts")
def contacts_list(request: KeyRequest, query: Query[ContactQuery]) -> ContactPage:
    """Newest first, `limit` a page; pass `next` back as `cursor` for the following page."""
    scope_require(request, "read")
    filters = ContactFilters(
        q=(query.search or "").strip(), list_id=query.list_id, opted_out=query.opted_out
    )
    page = contact_page(
        filters,
        cursor=cursor_check(query.cursor),
        region=settings_for(request.tenant).default_country,
        size=query.limit,
    )
    return ContactPage(items=[_out(c) for c in page.items], next=page.next_cursor)


@router.post("", response={201: ContactOut, **ERRORS}, summary="Create a contact")
def contacts_create(request: KeyRequest, payload: ContactIn) -> Status[ContactOut]:
    """409 when a contact has this number already (update it, or use the bulk upsert)."""
    scope_require(request, "send")
    phone = _phone(request, payload.phone)
    fields = _fields(payload.fields)
    lists = _lists(payload.lists)
    try:
        contact = contact_create(
            tenant=request.tenant, phone=phone, name=payload.name, fields=fields, lists=lists
        )
    except ContactError as exc:
        raise ApiDenied(409, str(exc)) from exc
    return Status(201, _out(_contact(contact.pk)))


@router.post(
    "/bulk",
    response={200: BulkOut, **ERRORS, 422: RowsProblem},
    summary="Create or update contacts by number",
)
def contacts_bulk(request: KeyRequest, payload: BulkIn) -> BulkOut | HttpResponse:
    """Up to 1,000 contacts, matched by number: all are written or none. A refused request
    answers 422 with each refused row (`row` is its index) and its reason."""
    scope_require(request, "send")
    lists = _lists(payload.lists)
    rows = [ContactRow(phone=r.phone, name=r.name, fields=r.fields) for r in payload.contacts]
    try:
        done = contacts_upsert(tenant=request.tenant, rows=rows, lists=lists)
    except ContactRowsError as exc:
        first = exc.errors[0]
        return problem(
            422,
            f"{exc} Row {first.row}, {first.field}: {first.message}",
            errors=[{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors],
        )
    created = sum(1 for d in done if d.created)
    return BulkOut(
        created=created,
        updated=len(done) - created,
        contacts=[
            BulkRowOut(
                row=d.row,
                id=d.contact_id,
                phone=d.phone,
                status="created" if d.created else "updated",
                opted_out=d.opted_out,
            )
            for d in done
        ],
    )


# --- lists (before /{contact_id}, which they would never match anyway: ids are integers) ------


@router.get("/lists", response={200: ListPage, **ERRORS}, summary="List contact lists")
def lists_list(request: KeyRequest, query: Query[ListQuery]) -> ListPage:
    scope_require(request, "read")
    page = keyset_page(lists_with_counts(), cursor=cursor_check(query.cursor), size=query.limit)
    return ListPage(items=[_list_out(cl) for cl in page.items], next=page.next_cursor)


@router.post("/lists", response={201: ListOut, **ERRORS}, summary="Create a contact list")
def lists_create(request: KeyRequest, payload: ListIn) -> Status[ListOut]:
    scope_require(request, "send")
    try:
        made = list_create(tenant=request.tenant, name=payload.name)
    except ContactError as exc:
        raise ApiDenied(409, str(exc)) from exc
    return Status(201, _list_out(made))


def _contact_list(list_id: int) -> ContactList:
    return get_object_or_404(
        ContactList.objects.annotate(members=Count("contactlistmember")), pk=list_id
    )


@router.get("/lists/{int:list_id}", response={200: ListOut, **ERRORS}, summary="Get a list")
def lists_get(request: KeyRequest, list_id: ListId) -> ListOut:
    scope_require(request, "read")
    return _list_out(_contact_list(list_id))


@router.patch("/lists/{int:list_id}", response={200: ListOut, **ERRORS}, summary="Rename a list")
def lists_rename(request: KeyRequest, list_id: ListId, payload: ListIn) -> ListOut:
    scope_require(request, "send")
    contact_list = _contact_list(list_id)
    try:
        list_rename(contact_list=contact_list, name=payload.name)
    except ContactError as exc:
        raise ApiDenied(409, str(exc)) from exc
    return _list_out(contact_list)


@router.delete("/lists/{int:list_id}", response={204: None, **ERRORS}, summary="Delete a list")
def lists_delete(request: KeyRequest, list_id: ListId) -> Status[None]:
    """The list and its memberships go; the contacts stay."""
    scope_require(request, "send")
    list_delete(contact_list=_contact_list(list_id))
    return Status(204, None)


@router.post(
    "/lists/{int:list_id}/members",
    response={200: MembersAdded, **ERRORS},
    summary="Add contacts to a list",
)
def lists_members_add(request: KeyRequest, list_id: ListId, payload: MembersIn) -> MembersAdded:
    """Up to 1,000 contact ids; 422 (nothing added) if any is not one of your contacts."""
    scope_require(request, "send")
    contact_list = _contact_list(list_id)
    added = list_add_contacts(contact_list=contact_list, contact_ids=_contact_ids(payload.contacts))
    return MembersAdded(added=added, members=contact_list.contacts.count())


@router.post(
    "/lists/{int:list_id}/members/remove",
    response={200: MembersRemoved, **ERRORS},
    summary="Remove contacts from a list",
)
def lists_members_remove(
    request: KeyRequest, list_id: ListId, payload: MembersIn
) -> MembersRemoved:
    """The contacts stay, only their membership of this list goes."""
    scope_require(request, "send")
    contact_list = _contact_list(list_id)
    removed = list_remove_contacts(
        contact_list=contact_list, contact_ids=_contact_ids(payload.contacts)
    )
    return MembersRemoved(removed=removed, members=contact_list.contacts.count())


# --- one contact ------------------------------------------------------------------------------


@router.get("/{int:contact_id}", response={200: ContactOut, **ERRORS}, summary="Get a contact")
def contacts_get(request: KeyRequest, contact_id: ContactId) -> ContactOut:
    scope_require(request, "read")
    return _out(_contact(contact_id))


@router.patch("/{int:contact_id}", response={200: ContactOut, **ERRORS}, summary="Update a contact")
def contacts_update(
    request: KeyRequest, contact_id: ContactId, payload: ContactPatch
) -> ContactOut:
    """Only the given properties change. A new number takes the opt-out state of that number."""
    scope_require(request, "send")
    contact = _contact(contact_id)
    phone = _phone(request, payload.phone) if payload.phone is not None else contact.phone
    fields = _fields(payload.fields) if payload.fields is not None else contact.fields
    lists = _lists(payload.lists) if payload.lists is not None else None
    try:
        contact_update(
            contact=contact,
            phone=phone,
            name=payload.name if payload.name is not None else contact.name,
            fields=fields or {},
            lists=lists,
        )
    except ContactError as exc:
        raise ApiDenied(409, str(exc)) from exc
    return _out(_contact(contact.pk))


@router.delete("/{int:contact_id}", response={204: None, **ERRORS}, summary="Delete a contact")
def contacts_delete(request: KeyRequest, contact_id: ContactId) -> Status[None]:
    scope_require(request, "send")
    contact_delete(contact=_contact(contact_id))
    return Status(204, None)

"""The tenant's Contacts pages: contacts, lists, CSV import (upload → mapping → progress), export.

Members add, edit and import contacts and manage lists; only owners delete contacts and lists.
Object views look the object up before checking the method, so another tenant's id is 404
whatever the method.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from accounts.access import role_required
from accounts.models import Membership
from core.csv_export import csv_lines, csv_response
from core.uploads import upload_limit
from messaging.contacts.forms import (
    NEW_LIST,
    ContactForm,
    ContactListForm,
    FieldRowFormSet,
    ImportMapForm,
    ImportUploadForm,
    ListMembersForm,
    field_rows,
)
from messaging.contacts.imports import (
    MAX_UPLOAD_BYTES,
    ImportFileError,
    import_preview,
    import_queue,
    import_upload,
)
from messaging.contacts.models import Contact, ContactImport, ContactList, ImportRejection
from messaging.contacts.selectors import (
    ContactFilters,
    contact_page,
    contacts_filtered,
    lists_with_counts,
)
from messaging.contacts.services import (
    ContactError,
    contact_create,
    contact_delete,
    contact_update,
    contacts_csv,
    list_add_contacts,
    list_create,
    list_delete,
    list_remove_contacts,
    list_rename,
)
from messaging.services import settings_for

OWNER = Membership.Role.OWNER
REJECTIONS_PAGE = 100
FINISHED = (ContactImport.Status.DONE, ContactImport.Status.FAILED)


def _base(**extra: object) -> dict[str, object]:
    return {"section": "messages", "tab": "contacts", **extra}


# --- contacts ---------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def contact_list(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    filters = ContactFilters.from_query(request.GET)
    region = settings_for(request.tenant).default_country
    query = request.GET.copy()
    query.pop("after", None)
    context = _base(
        page=contact_page(filters, cursor=request.GET.get("after"), region=region),
        filters=filters,
        filter_query=query.urlencode(),
        lists=list(ContactList.objects.order_by("name")),
        imports=list(ContactImport.objects.order_by("-created", "-id")[:3]),
    )
    template = (
        "messaging/contacts/list.html#results" if request.htmx else "messaging/contacts/list.html"
    )
    return render(request, template, context)


def _contact_page(
    request: HttpRequest,
    form: ContactForm,
    rows: FieldRowFormSet,
    contact: Contact | None,
    status: int = 200,
) -> HttpResponse:
    context = _base(form=form, rows=rows, contact=contact)
    return render(request, "messaging/contacts/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = ContactForm(request.POST or None, tenant=tenant)
    rows = FieldRowFormSet(request.POST or None, prefix="fields")
    if request.method == "POST":
        if form.is_valid() and rows.is_valid():
            data = form.cleaned_data
            try:
                contact = contact_create(
                    tenant=tenant,
                    phone=data["phone"],
                    name=data["name"],
                    fields=rows.as_dict(),
                    lists=data["lists"],
                )
            except ContactError as exc:
                form.add_error("phone", str(exc))
            else:
                messages.success(request, f"{contact} added.")
                return redirect("contacts:detail", tenant_slug=tenant_slug, contact_id=contact.pk)
        return _contact_page(request, form, rows, None, status=400)
    return _contact_page(request, form, rows, None)


def contact_detail(request: HttpRequest, tenant_slug: str, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        form = ContactForm(request.POST, tenant=request.tenant, instance=contact)
        rows = FieldRowFormSet(request.POST, prefix="fields")
        if form.is_valid() and rows.is_valid():
            data = form.cleaned_data
            try:
                contact_update(
                    contact=contact,
                    phone=data["phone"],
                    name=data["name"],
                    fields=rows.as_dict(),
                    lists=data["lists"],
                )
            except ContactError as exc:
                form.add_error("phone", str(exc))
            else:
                messages.success(request, f"{contact} saved.")
                return redirect("contacts:detail", tenant_slug=tenant_slug, contact_id=contact.pk)
        return _contact_page(request, form, rows, contact, status=400)
    form = ContactForm(
        tenant=request.tenant,
        instance=contact,
        initial={"phone": contact.phone, "name": contact.name, "lists": contact.lists.all()},
    )
    rows = FieldRowFormSet(initial=field_rows(contact.fields or {}), prefix="fields")
    return _contact_page(request, form, rows, contact)


@role_required(OWNER)
def contact_delete_view(request: HttpRequest, tenant_slug: str, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    if request.method == "POST":
        label = str(contact)
        contact_delete(contact=contact)
        messages.success(request, f"{label} deleted.")
        return redirect("contacts:list", tenant_slug=tenant_slug)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "messaging/contacts/delete.html", _base(contact=contact))


@require_POST
def list_members(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Add or remove the ticked contacts (from the contacts page) to or from a list."""
    form = ListMembersForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("contacts:list", tenant_slug=tenant_slug)
    data = form.cleaned_data
    target: ContactList = data["contact_list"]
    ids = [c.pk for c in data["contacts"]]
    if data["action"] == "add":
        count = list_add_contacts(contact_list=target, contact_ids=ids)
        messages.success(request, f"{count} contact{'s' if count != 1 else ''} added to {target}.")
    else:
        count = list_remove_contacts(contact_list=target, contact_ids=ids)
        messages.success(
            request, f"{count} contact{'s' if count != 1 else ''} removed from {target}."
        )
    url = reverse("contacts:list", kwargs={"tenant_slug": tenant_slug})
    return redirect(f"{url}?list={target.pk}")


@require_GET
def export(request: HttpRequest, tenant_slug: str) -> StreamingHttpResponse:
    filters = ContactFilters.from_query(request.GET)
    region = settings_for(request.tenant).default_country
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return contacts_csv(
        contacts=contacts_filtered(filters, region=region),
        filename=f"contacts-{request.tenant.slug}-{stamp}.csv",
    )


# --- lists ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def lists(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    form = ContactListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = list_create(tenant=request.tenant, name=form.cleaned_data["name"])
        except ContactError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"List “{created}” created.")
            return redirect("contacts:lists", tenant_slug=tenant_slug)
    status = 400 if request.method == "POST" else 200
    context = _base(form=form, lists=lists_with_counts())
    return render(request, "messaging/contacts/lists.html", context, status=status)


def list_edit(request: HttpRequest, tenant_slug: str, list_id: int) -> HttpResponse:
    contact_list = get_object_or_404(lists_with_counts(), pk=list_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = ContactListForm(
        request.POST if request.method == "POST" else None,
        instance=contact_list,
        initial={"name": contact_list.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            list_rename(contact_list=contact_list, name=form.cleaned_data["name"])
        except ContactError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"List renamed to “{contact_list}”.")
            return redirect("contacts:lists", tenant_slug=tenant_slug)
    status = 400 if request.method == "POST" else 200
    context = _base(form=form, contact_list=contact_list)
    return render(request, "messaging/contacts/list_edit.html", context, status=status)


@role_required(OWNER)
def list_delete_view(request: HttpRequest, tenant_slug: str, list_id: int) -> HttpResponse:
    contact_list = get_object_or_404(lists_with_counts(), pk=list_id)
    if request.method == "POST":
        name = contact_list.name
        list_delete(contact_list=contact_list)
        messages.success(request, f"List “{name}” deleted; its contacts are kept.")
        return redirect("contacts:lists", tenant_slug=tenant_slug)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "messaging/contacts/list_delete.html", _base(contact_list=contact_list))


# --- import -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@upload_limit(MAX_UPLOAD_BYTES)
def import_start(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            started = import_upload(
                tenant=request.tenant, user=request.user, upload=form.cleaned_data["file"]
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("contacts:import_map", tenant_slug=tenant_slug, import_id=started.pk)
    status = 400 if request.method == "POST" else 200
    context = _base(form=form, imports=ContactImport.objects.order_by("-created", "-id")[:20])
    return render(request, "messaging/contacts/import_upload.html", context, status=status)


def import_map(request: HttpRequest, tenant_slug: str, import_id: int) -> HttpResponse:
    contact_import = get_object_or_404(ContactImport, pk=import_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if contact_import.status != ContactImport.Status.UPLOADED:
        return redirect("contacts:import_detail", tenant_slug=tenant_slug, import_id=import_id)
    form = ImportMapForm(
        request.POST if request.method == "POST" else None, contact_import=contact_import
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = data.get("list_obj")
        try:
            if data["target_list"] == NEW_LIST:
                name = data["new_list_name"].strip()
                target = ContactList.objects.filter(name=name).first() or list_create(
                    tenant=request.tenant, name=name
                )
            queued = import_queue(
                contact_import=contact_import,
                mapping=data["mapping"],
                default_country=data["default_country"],
                target_list=target,
            )
        except (ContactError, ImportFileError) as exc:
            form.add_error(None, str(exc))
        else:
            if queued:
                messages.success(request, "Import queued; it starts when a worker is free.")
            return redirect("contacts:import_detail", tenant_slug=tenant_slug, import_id=import_id)
    try:
        preview = import_preview(contact_import)
    except OSError:
        preview = None
    status = 400 if request.method == "POST" else 200
    context = _base(
        contact_import=contact_import,
        form=form,
        preview=preview,
        columns=form.column_fields(preview.rows if preview else []),
    )
    return render(request, "messaging/contacts/import_map.html", context, status=status)


@vary_on_headers("HX-Request")
def import_detail(request: HttpRequest, tenant_slug: str, import_id: int) -> HttpResponse:
    contact_import = get_object_or_404(ContactImport, pk=import_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    finished = contact_import.status in FINISHED
    context = _base(contact_import=contact_import, finished=finished)
    if request.htmx:
        if finished:
            # Stop polling (286) and reload the page, which then shows the results.
            response = HttpResponseStopPolling(
                render_to_string(
                    "messaging/contacts/import_detail.html#progress", context, request=request
                )
            )
            response["HX-Refresh"] = "true"
            return response
        return render(request, "messaging/contacts/import_detail.html#progress", context)
    after = request.GET.get("after", "")
    rejections = ImportRejection.objects.filter(contact_import=contact_import)
    if after.isdigit():
        rejections = rejections.filter(row_number__gt=int(after))
    rows = list(rejections.order_by("row_number")[: REJECTIONS_PAGE + 1])
    context.update(
        rejections=rows[:REJECTIONS_PAGE],
        next_after=rows[REJECTIONS_PAGE - 1].row_number if len(rows) > REJECTIONS_PAGE else None,
        is_first=not after,
    )
    return render(request, "messaging/contacts/import_detail.html", context)


def import_rejections(request: HttpRequest, tenant_slug: str, import_id: int) -> HttpResponse:
    contact_import = get_object_or_404(ContactImport, pk=import_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    rows = (
        ImportRejection.objects.filter(contact_import=contact_import)
        .order_by("row_number")
        .values_list("row_number", "reason", "raw")
        .iterator(chunk_size=2000)
    )
    filename = f"import-{contact_import.pk}-rejected.csv"
    return csv_response(csv_lines(("row", "reason", "raw"), rows), filename=filename)

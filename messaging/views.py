"""The tenant's Messages pages: inbox, threads, compose, log, opt-outs and settings.

Views parse and authorise; sending rules live in messaging.services, reads in selectors.
Live pages poll with `?since=<iso>` and get 204 No Content while nothing changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import role_required
from accounts.models import AuditEvent, Membership
from accounts.services import audit_record
from core.log_filters import export_filename, parse_since
from core.phone import to_e164
from core.uploads import upload_limit
from messaging import selectors
from messaging.contacts.selectors import contact_names
from messaging.exports import message_log_csv, optout_csv
from messaging.forms import (
    CONFIRM_PARTS_ABOVE,
    ComposeForm,
    MessagingSettingsForm,
    OptOutRecordForm,
)
from messaging.images import ImageBytes, images_attach
from messaging.models import Conversation, Message, OptOut
from messaging.services import (
    SendError,
    conversation_mark_read,
    max_characters,
    optout_record,
    parts_limit,
    price_estimate,
    settings_for,
    sms_dry_run,
    sms_queue,
)
from messaging.text import sms_size
from numbers.models import PhoneNumber

OWNER = Membership.Role.OWNER


def _no_change() -> HttpResponse:
    return HttpResponse(status=204)


# What an empty list polls with: quiet until the first row appears.
EPOCH = "1970-01-01T00:00:00+00:00"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else EPOCH


# --- inbox ------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def inbox(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    since = parse_since(request.GET.get("since"))
    if since is not None and not selectors.inbox_changed_since(since):
        return _no_change()
    q = request.GET.get("q", "").strip()[:100]
    cursor = request.GET.get("after")
    page = selectors.inbox_page(q=q, cursor=cursor)
    context = {
        "section": "messages",
        "page": page,
        "names": contact_names(c.other for c in page.items),
        "q": q,
        "version": _iso(selectors.inbox_version()),
        "live": not cursor,
    }
    template = "messaging/inbox.html#list" if request.htmx else "messaging/inbox.html"
    return render(request, template, context)


# --- a conversation ---------------------------------------------------------------------------


@vary_on_headers("HX-Request")
def thread(request: HttpRequest, tenant_slug: str, conversation_id: int) -> HttpResponse:
    # Looked up before the method check: another tenant's id is 404 whatever the method.
    conversation = get_object_or_404(Conversation, pk=conversation_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    since = parse_since(request.GET.get("since"))
    if since is not None and not selectors.thread_changed_since(conversation, since):
        return _no_change()
    conversation_mark_read(conversation)
    cursor = request.GET.get("before")
    context = {
        "section": "messages",
        "conversation": conversation,
        "name": contact_names([conversation.other]).get(conversation.other, ""),
        "page": selectors.thread_page(conversation=conversation, cursor=cursor),
        "version": _iso(selectors.thread_version(conversation)),
        "live": not cursor,
    }
    if request.htmx and since is not None:
        return render(request, "messaging/thread.html#messages", context)
    context["request_key"] = uuid.uuid4()
    return render(request, "messaging/thread.html", context)


# --- compose ----------------------------------------------------------------------------------


def _queue(form: ComposeForm, request: HttpRequest) -> list[Message]:
    """Queue the messages; for MMS attach the image before the transaction (and enqueue) ends."""
    data = form.cleaned_data
    with transaction.atomic():
        queued = sms_queue(
            tenant=request.tenant,
            sender=data["sender"],
            recipients=data["recipients"],
            body=data["message"] or "",
            request_key=data["request_key"],
            actor=request.user,
            flash=data["flash"],
            delivery_report=data["delivery_report"],
            kind=data["kind"],
        )
        if data["kind"] == Message.Kind.MMS and form.image_data is not None:
            content_type, ext = form.image_type or ("", "")
            images_attach(queued=queued, image=ImageBytes(form.image_data, content_type, ext))
    return queued


@require_http_methods(["GET", "POST"])
@upload_limit(lambda: settings.MMS_MAX_BYTES)
def compose(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    initial = {
        "request_key": uuid.uuid4(),
        "delivery_report": True,
        "recipients": request.GET.get("to", ""),
    }
    form = ComposeForm(request.POST or None, request.FILES or None, tenant=tenant, initial=initial)
    estimate: dict[str, int] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "estimate":
                if data["kind"] != Message.Kind.SMS:
                    raise SendError("46elks estimates SMS only; MMS is charged per message.")
                parts, price = sms_dry_run(
                    tenant=tenant,
                    sender=data["sender"],
                    recipients=data["recipients"],
                    body=data["message"],
                )
                estimate = {"parts": parts, "price": price, "recipients": len(data["recipients"])}
            else:
                queued = _queue(form, request)
        except SendError as exc:
            form.add_error(None, str(exc))
        else:
            if estimate is None:
                return _after_send(request, queued, data["request_key"])
    status = 400 if request.method == "POST" and form.errors else 200
    context = {"section": "messages", "form": form, "estimate": estimate}
    context.update(_counter_context(request, request.POST or request.GET))
    return render(request, "messaging/compose.html", context, status=status)


def _after_send(request: HttpRequest, queued: list[Message], key: uuid.UUID) -> HttpResponse:
    slug = request.tenant.slug
    count = len(queued)
    messages.success(request, f"{count} message{'s' if count != 1 else ''} queued for sending.")
    if count == 1 and queued[0].conversation_id:
        return redirect(
            "messaging:thread", tenant_slug=slug, conversation_id=queued[0].conversation_id
        )
    return redirect(f"{reverse('messaging:log', kwargs={'tenant_slug': slug})}?request={key}")


def _counter_context(request: HttpRequest, source: QueryDict) -> dict[str, object]:
    body = source.get("message", "")
    raw = source.get("recipients", "")
    tokens = list(
        dict.fromkeys(r.strip() for r in raw.replace("\n", ",").replace(";", ",").split(","))
    )
    tokens = [t for t in tokens if t]
    size = sms_size(body)
    limit = parts_limit(request.tenant)
    valid = [to for to in _priced(request, tokens) if to]
    parts = size.parts
    # An estimate only when there is something to estimate: a text and a valid recipient.
    price = (
        price_estimate(tenant_id=request.tenant.pk, body=body, recipients=valid)
        if body.strip() and valid
        else None
    )
    return {
        "counter": {
            "characters": len(body),
            "encoding": size.encoding,
            "units": size.units,
            "parts": parts,
            "recipients": len(valid),
            "invalid": len(tokens) - len(valid),
            "price": price,
            "limit": limit,
            "too_long": parts > limit,
            "max_characters": max_characters(size.encoding, limit),
            "mms": source.get("kind") == Message.Kind.MMS,
        },
        # The confirmation box for a long text, swapped into the form as the text changes.
        "long": {
            "needed": parts > CONFIRM_PARTS_ABOVE
            and parts <= limit
            and source.get("kind") != Message.Kind.MMS,
            "checked": source.get("confirm_long") in ("on", "true", "1"),
            "parts": parts,
            "price": price,
            "recipients": len(valid),
        },
    }


def _priced(request: HttpRequest, tokens: list[str]) -> list[str]:
    """Typed recipients as E.164 where they parse, "" where they do not (not counted)."""
    region = settings_for(request.tenant).default_country
    priced = []
    for token in tokens[:1000]:
        try:
            priced.append(to_e164(token, region=region))
        except ValidationError:
            priced.append("")  # not a phone number: neither counted nor priced
    return priced


@require_GET
def counter(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """HTMX: characters, encoding, parts and estimated price of the text typed so far, and the
    long-message confirmation box (swapped into the form out of band)."""
    context = {**_counter_context(request, request.GET), "oob": True}
    return render(request, "messaging/compose.html#counter", context)


# --- the log ----------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def log(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """The log; while a row on the page is still on its way (queued, awaiting its report) the
    results poll with `?since=` like a thread: 204 while nothing changed, the new rows when
    something did, and 286 (stop polling) with the rows once every one of them is final."""
    filters = selectors.MessageFilters.from_query(request.GET)
    since = parse_since(request.GET.get("since"))
    if since is not None and not selectors.log_changed_since(filters, since):
        return _no_change()
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("since", None)
    poll = request.GET.copy()
    poll.pop("since", None)
    drawn = timezone.now()  # before the read: what commits during it is polled for again
    page = selectors.log_page(filters=filters, cursor=request.GET.get("after"))
    settling = selectors.log_settling(page.items, now=drawn)
    context = {
        "section": "messages",
        "page": page,
        "filters": filters,
        "filter_query": query.urlencode(),
        "poll_query": poll.urlencode(),
        "settling": settling,
        "version": (drawn - selectors.LOG_POLL_MARGIN).isoformat(),
        "directions": Message.Direction.choices,
        "statuses": Message.Status.choices,
        "sources": [(key, label) for key, (label, _) in selectors.LOG_SOURCES.items()],
    }
    if request.htmx:
        status = 286 if since is not None and not settling else 200
        return render(request, "messaging/log.html#results", context, status=status)
    context["numbers"] = list(
        PhoneNumber.objects.exclude(number="").order_by("number").values_list("number", flat=True)
    )
    return render(request, "messaging/log.html", context)


@require_GET
def export(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    filters = selectors.MessageFilters.from_query(request.GET)
    return message_log_csv(
        messages=selectors.log_queryset(filters),
        currency=request.tenant.currency,
        filename=export_filename("messages", request.tenant.slug),
    )


# --- opt-outs ---------------------------------------------------------------------------------


@require_GET
def optouts(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return _optouts_page(request, OptOutRecordForm(tenant=request.tenant))


def _optouts_page(request: HttpRequest, form: OptOutRecordForm, status: int = 200) -> HttpResponse:
    context = {
        "section": "messages",
        "page": selectors.optout_page(cursor=request.GET.get("after")),
        "form": form,
        "query": request.GET,
    }
    return render(request, "messaging/optouts.html", context, status=status)


@require_POST
@role_required(OWNER)
def optout_record_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    form = OptOutRecordForm(request.POST, tenant=request.tenant)
    if not form.is_valid():
        return _optouts_page(request, form, status=400)
    data = form.cleaned_data
    optout_record(
        tenant=request.tenant,
        phone=data["phone"],
        kind=data["kind"],
        word=data["word"],
        actor=request.user,
    )
    done = "opted out" if data["kind"] == OptOut.Kind.OUT else "opted in again"
    messages.success(request, f"{data['phone']} is {done}.")
    return redirect("messaging:optouts", tenant_slug=tenant_slug)


@require_GET
def optout_export(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return optout_csv(
        optouts=OptOut.objects.all(), filename=export_filename("opt-outs", request.tenant.slug)
    )


# --- settings ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Members read the settings; only owners change them."""
    current = settings_for(request.tenant)
    can_change = request.tenant_access.can_manage
    if request.method == "POST" and not can_change:
        raise PermissionDenied("Only owners change the messaging settings.")
    staff = request.tenant_access.staff_view
    was_parts = current.max_sms_parts
    form = MessagingSettingsForm(request.POST or None, instance=current, staff=staff)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        form.save()
        if "max_sms_parts" in form.changed_data:
            audit_record(
                action=AuditEvent.Action.SMS_PARTS_LIMIT_CHANGED,
                actor=request.user,
                tenant=request.tenant,
                request=request,
                old=was_parts,
                new=current.max_sms_parts,
            )
        messages.success(request, "Messaging settings saved.")
        return redirect("messaging:settings", tenant_slug=tenant_slug)
    status = 400 if request.method == "POST" else 200
    context = {"section": "messages", "form": form, "can_change": can_change}
    return render(request, "messaging/settings.html", context, status=status)


# --- images -----------------------------------------------------------------------------------

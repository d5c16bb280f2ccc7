"""The tenant's Calls pages: the live log and its CSV, a call, voicemail, click-to-call,
greetings and settings.

Views parse and authorise; writes live in calls.services, reads in calls.selectors. The open
log polls with `?since=<iso>` and gets 204 No Content while no call changed. Views that take
an object id look it up before checking the method, so another tenant's id is 404 whatever
the method (ids do not leak).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.access import role_required
from accounts.models import Membership
from calls import media, selectors
from calls.exports import call_log_csv
from calls.forms import GREETING_MAX_BYTES, CallSettingsForm, DialForm, GreetingForm
from calls.models import Call, CallSettings, Greeting, Recording
from calls.services import CallError, click_to_call, recording_mark_heard, settings_for
from core.log_filters import export_filename, parse_since
from core.uploads import upload_limit
from messaging.contacts.selectors import contact_names
from numbers.models import PhoneNumber

OWNER = Membership.Role.OWNER
SECTION = "calls"


# --- the log ----------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def call_log(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    since = parse_since(request.GET.get("since"))
    if since is not None and not selectors.log_changed_since(since):
        return HttpResponse(status=204)
    filters = selectors.CallFilters.from_query(request.GET)
    cursor = request.GET.get("after")
    query = request.GET.copy()
    for key in ("after", "since"):
        query.pop(key, None)
    # The version is read before the rows: a change landing in between is shown next poll.
    version = selectors.log_version()
    page = selectors.log_page(filters=filters, cursor=cursor)
    for call in page.items:
        call.duration_text = selectors.mmss(call.duration)
    context = {
        "section": SECTION,
        "page": page,
        "names": contact_names(call.other for call in page.items),
        "filters": filters,
        "filter_query": query.urlencode(),
        "version": version.isoformat(),
        "live": not cursor,
        "numbers": list(
            PhoneNumber.objects.exclude(number="")
            .order_by("number")
            .values_list("number", flat=True)
        ),
        "directions": Call.Direction.choices,
        "states": Call.State.choices,
    }
    template = "calls/log.html#results" if request.htmx else "calls/log.html"
    return render(request, template, context)


@require_GET
def export(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    filters = selectors.CallFilters.from_query(request.GET)
    return call_log_csv(
        calls=selectors.export_queryset(filters),
        currency=request.tenant.currency,
        filename=export_filename("calls", request.tenant.slug),
    )


# --- a call -----------------------------------------------------------------------------------


def call_detail(request: HttpRequest, tenant_slug: str, call_id: int) -> HttpResponse:
    call = get_object_or_404(Call.objects.select_related("number", "placed_by"), pk=call_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    call.duration_text = selectors.mmss(call.duration)
    recordings = list(call.recordings.order_by("created", "id"))
    for recording in recordings:
        recording.duration_text = selectors.mmss(recording.duration)
        if recording.kind == Recording.Kind.VOICEMAIL:
            recording_mark_heard(recording=recording)
    context = {
        "section": SECTION,
        "call": call,
        "recordings": recordings,
        "legs": selectors.legs_table(call.legs or []),
        "actions": selectors.action_sentences(call.actions or [], recordings),
    }
    if request.user.is_staff:
        context["raw_actions"] = selectors.raw_actions(call.actions or [])
        # Staff see price, cost and margin side by side; a tenant only ever its price.
        context["margin"] = (call.price or 0) - (call.cost or 0)
    return render(request, "calls/detail.html", context)


def recording_audio(request: HttpRequest, tenant_slug: str, recording_id: int) -> HttpResponse:
    get_object_or_404(Recording, pk=recording_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return media.recording_audio(request, tenant_slug=tenant_slug, recording_id=recording_id)


# --- voicemail --------------------------------------------------------------------------------


@require_GET
def voicemail(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    page = selectors.voicemail_page(cursor=request.GET.get("after"))
    for recording in page.items:
        recording.duration_text = selectors.mmss(recording.duration)
    names = contact_names(r.call.other for r in page.items if r.call is not None)
    context = {"section": SECTION, "page": page, "names": names}
    return render(request, "calls/voicemail.html", context)


# --- click-to-call ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def dial(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Both owners and members may call; a repeated POST of the same form places one call."""
    if request.method == "POST":
        form = DialForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                call = click_to_call(
                    tenant=request.tenant,
                    user=request.user,
                    number=data["number"],
                    to=data["to"],
                    request_key=data["request_key"],
                )
            except CallError as exc:
                form.add_error(None, str(exc))
                # A corrected form is a new call: it gets a new key.
                form.data = form.data.copy()
                form.data["request_key"] = str(uuid.uuid4())
            else:
                return redirect("calls:detail", tenant_slug=tenant_slug, call_id=call.pk)
        status = 400
    else:
        initial = {"request_key": uuid.uuid4(), "to": request.GET.get("to", "")[:40]}
        number_id = request.GET.get("number", "")
        if number_id.isdigit():
            initial["number"] = int(number_id)
        form = DialForm(initial=initial)
        status = 200
    return render(request, "calls/dial.html", {"section": SECTION, "form": form}, status=status)


# --- greetings --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@upload_limit(GREETING_MAX_BYTES)
def greetings(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Members listen; only owners upload."""
    can_change = request.tenant_access.can_manage
    if request.method == "POST" and not can_change:
        raise PermissionDenied("Only owners upload greetings.")
    form = GreetingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        greeting = form.save(commit=False)
        greeting.tenant = request.tenant
        greeting.save()
        messages.success(
            request,
            f"Greeting “{greeting.name}” uploaded. Choose it for a number in its routing.",
        )
        return redirect("calls:greetings", tenant_slug=tenant_slug)
    context = {
        "section": SECTION,
        "greetings": Greeting.objects.all(),
        "form": form,
        "can_change": can_change,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "calls/greetings.html", context, status=status)


@role_required(OWNER)
def greeting_delete(request: HttpRequest, tenant_slug: str, greeting_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes. Numbers using it fall back to the default greeting."""
    greeting = get_object_or_404(Greeting, pk=greeting_id)
    if request.method == "POST":
        name = greeting.name
        greeting.file.delete(save=False)
        greeting.delete()  # PhoneNumber.voicemail_greeting is SET_NULL: the default plays
        messages.success(request, f"Greeting “{name}” deleted.")
        return redirect("calls:greetings", tenant_slug=tenant_slug)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    in_use = list(
        PhoneNumber.objects.filter(voicemail_greeting=greeting).values_list("number", flat=True)
    )
    context = {"section": SECTION, "greeting": greeting, "in_use": in_use}
    return render(request, "calls/greeting_delete.html", context)


# --- settings ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Members read the settings; only owners change them."""
    can_change = request.tenant_access.can_manage
    if request.method == "POST" and not can_change:
        raise PermissionDenied("Only owners change the call settings.")
    current = settings_for(request.tenant)
    form = CallSettingsForm(request.POST or None, instance=current)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        # Only this column: the sync writes its cursors on the same row concurrently.
        CallSettings.objects.filter(pk=current.pk).update(
            recording_retention_days=form.cleaned_data["recording_retention_days"]
        )
        messages.success(request, "Call settings saved.")
        return redirect("calls:settings", tenant_slug=tenant_slug)
    status = 400 if request.method == "POST" else 200
    context = {"section": SECTION, "form": form, "can_change": can_change}
    return render(request, "calls/settings.html", context, status=status)

"""The tenant's Numbers pages: list, rent, routing, release and restore."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Membership
from numbers.billing import number_month_price, offered_price
from numbers.forms import ReleaseForm, RentForm, RotateCallbacksForm, RoutingForm
from numbers.history import number_history, readable_code
from numbers.hooks import callback_urls, hook_url, redact_callback_tokens
from numbers.models import PhoneNumber
from numbers.routing import sms_steps
from numbers.selectors import NumberFilters, activity_last_30_days, numbers_page
from numbers.services import (
    NumberError,
    number_reapply_routing,
    number_release,
    number_rent,
    number_restore,
    number_rotate_token,
    number_route,
)

OWNER = Membership.Role.OWNER


def number_list(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    filters = NumberFilters.from_query(request.GET)
    page = numbers_page(filters=filters, cursor=request.GET.get("after"))
    activity = activity_last_30_days(list(page.items))
    for number in page.items:
        number.messages_30d, number.calls_30d = activity[number.pk]
    context = {"section": "numbers", "page": page, "filters": filters, "query": request.GET}
    template = "numbers/index.html#results" if request.htmx else "numbers/index.html"
    return render(request, template, context)


@role_required(OWNER)
def number_rent_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = RentForm(request.POST or None, initial={"request_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            number = number_rent(
                tenant=tenant,
                country=data["country"],
                capabilities=data["capabilities"],
                category=data["category"],
                request_key=data["request_key"],
                actor=request.user,
            )
        except NumberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Rented {number.number}. Set up its routing below.")
            return redirect("numbers:detail", tenant_slug=tenant.slug, number_id=number.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "numbers/rent.html",
        {"section": "numbers", "form": form, **_price_context(request, form)},
        status=status,
    )


def _price_context(request: HttpRequest, form: RentForm) -> dict[str, object]:
    source = request.POST or request.GET
    country = (source.get("country") or "").strip().lower()
    category = source.get("category") or "mobile"
    price = (
        offered_price(tenant=request.tenant, country=country, category=category)
        if len(country) == 2
        else None
    )
    return {"price": price, "price_country": country.upper(), "price_category": category}


@role_required(OWNER)
def number_price(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """HTMX: the monthly price for the country and category chosen so far."""
    return render(request, "numbers/rent.html#price", _price_context(request, RentForm()))


def number_detail(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    return render(
        request,
        "numbers/detail.html",
        _detail_context(request, number, RoutingForm(instance=number)),
    )


def _detail_context(
    request: HttpRequest, number: PhoneNumber, form: RoutingForm
) -> dict[str, object]:
    # The page shows the call plan calls answers for this number (a function, not a model:
    # numbers keeps no import of calls at module level).
    from calls.routing import action_steps, voice_action

    action = voice_action(number)
    context: dict[str, object] = {
        "section": "numbers",
        "number": number,
        "month_price": number_month_price(number),
        "form": form,
        "voice_steps": action_steps(action, number),
        "sms_steps": sms_steps(number),
        "drift": _drift_for_users(number.provider_drift or {}),
        "events": number_history(number),
    }
    if request.user.is_staff:
        # Staff see the raw plan and the URLs, still with the tokens hidden: the token is
        # the only key to the number's callbacks and a screenshot is easily shared.
        kinds = ("hangup", "voicemail", "recording")
        urls = {**callback_urls(number), **{k: hook_url(number, k) for k in kinds}}
        context["technical"] = {
            "action_json": redact_callback_tokens(json.dumps(action, indent=2)),
            "callback_urls": {k: redact_callback_tokens(url) for k, url in urls.items()},
            "previous_token_until": number.previous_hook_token_until
            if number.previous_hook_token
            else None,
        }
    return context


# What each drifted setting at 46elks decides, for people (numbers.sync._drift's keys).
DRIFT_SETTINGS = {
    "sms_url": "Where 46elks sends the SMS",
    "mms_url": "Where 46elks sends the MMS",
    "voice_start": "Who answers the calls",
    "sms_replies": "Automatic SMS replies",
}


def _drift_for_users(drift: dict[str, dict[str, object]]) -> list[dict[str, str]]:
    """Each drifted setting in words: our own callback addresses are "this dashboard", never
    a URL (not even with the token hidden); another address is shown, masked in case it
    carries one of our tokens."""

    def words(value: object) -> str:
        if value is None or value == "":
            return "Nothing set"
        if isinstance(value, bool):
            return "On" if value else "Off"
        text = str(value)
        if "/hooks/elks/" in text:
            return "This dashboard"
        return redact_callback_tokens(text)

    return [
        {
            "setting": DRIFT_SETTINGS.get(key, readable_code(key).capitalize()),
            "ours": words(d.get("ours")),
            "theirs": words(d.get("theirs")),
        }
        for key, d in drift.items()
        if isinstance(d, dict)
    ]


@require_POST
@role_required(OWNER)
def number_route_view(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    form = RoutingForm(request.POST, instance=number)
    if form.is_valid():
        try:
            number_route(number=number, actor=request.user, **form.routing())
        except NumberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Routing saved and sent to 46elks.")
            return redirect("numbers:detail", tenant_slug=tenant_slug, number_id=number.pk)
    number.refresh_from_db()
    return render(
        request, "numbers/detail.html", _detail_context(request, number, form), status=400
    )


@role_required(OWNER)
def number_release_view(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    form = ReleaseForm(request.POST or None, number=number)
    if request.method == "POST" and form.is_valid():
        try:
            number_release(number=number, actor=request.user)
        except NumberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{number.number} is released: routing stopped. You can restore it until "
                f"{number.quarantine_until:%Y-%m-%d %H:%M}.",
            )
            return redirect("numbers:detail", tenant_slug=tenant_slug, number_id=number.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "numbers/release.html",
        {"section": "numbers", "number": number, "form": form},
        status=status,
    )


def _post_action(
    request: HttpRequest, tenant_slug: str, number_id: int, action: Callable[..., object], done: str
) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    try:
        action(number=number, actor=request.user)
    except NumberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("numbers:detail", tenant_slug=tenant_slug, number_id=number.pk)


@require_POST
@role_required(OWNER)
def number_restore_view(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    return _post_action(
        request, tenant_slug, number_id, number_restore, "Restored: routing is back."
    )


@require_POST
@role_required(OWNER)
def number_reapply_view(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    return _post_action(
        request,
        tenant_slug,
        number_id,
        number_reapply_routing,
        "Our routing is set at 46elks again.",
    )


@role_required(OWNER)
def number_rotate_view(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    """GET explains and asks to confirm; POST gives the callback URLs a new secret part."""
    number = get_object_or_404(PhoneNumber, pk=number_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = RotateCallbacksForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        revoke = form.cleaned_data["revoke_old"]
        try:
            number_rotate_token(number=number, actor=request.user, keep_old=not revoke)
        except NumberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "New callback URLs are registered at 46elks; the old ones no longer work."
                if revoke
                else "New callback URLs are registered at 46elks; the old ones work for a few "
                "more hours.",
            )
            return redirect("numbers:detail", tenant_slug=tenant_slug, number_id=number.pk)
    return render(
        request,
        "numbers/rotate.html",
        {"section": "numbers", "number": number, "form": form},
        status=400 if request.method == "POST" else 200,
    )

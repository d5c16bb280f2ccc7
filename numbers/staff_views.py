"""Staff pages for numbers: every tenant's numbers, prices, Infobip, closing a tenant."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_scopes import scope

from accounts.access import staff_required
from accounts.models import Tenant
from billing.ledger.services import Rater
from core.redirects import next_url
from numbers import infobip_services
from numbers.billing import monthly_price_quote
from numbers.forms import (
    AssignForm,
    CloseTenantForm,
    InfobipSearchForm,
    PolicyForm,
    PriceForm,
    ReleaseForm,
    RentForm,
    RotateCallbacksForm,
)
from numbers.history import number_history
from numbers.models import NumberPolicy, NumberPrice, PhoneNumber, Provider
from numbers.selectors import NumberFilters, number_money, staff_numbers_page
from numbers.services import (
    NumberError,
    number_release_now,
    number_rent,
    tenant_callback_numbers,
    tenant_callback_tokens_rotate,
    tenant_close,
)
from providers.clients import infobip_configured


@staff_required
def numbers(request: HttpRequest) -> HttpResponse:
    filters = NumberFilters.from_query(request.GET)
    page = staff_numbers_page(filters=filters, cursor=request.GET.get("after"))
    return render(
        request,
        "staff/numbers.html",
        {
            "page": page,
            "filters": filters,
            "query": request.GET,
            "tenants": Tenant.objects.order_by("name"),
            "unassigned": PhoneNumber.objects.filter(status=PhoneNumber.Status.UNASSIGNED).count(),
        },
    )


@staff_required
def number_detail(request: HttpRequest, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber.objects.select_related("tenant"), pk=number_id)
    return render(
        request,
        "staff/number_detail.html",
        {
            "number": number,
            "release_form": ReleaseForm(number=number),
            "assign_form": AssignForm(),
            "events": number_history(number),
            "money": number_money(number),
        },
    )


@require_POST
@staff_required
def number_release_now_view(request: HttpRequest, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber.objects.select_related("tenant"), pk=number_id)
    form = ReleaseForm(request.POST, number=number)
    if not form.is_valid():
        messages.error(request, form.errors["confirm"][0])
    else:
        try:
            number_release_now(number=number, actor=request.user)
        except NumberError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{number.number} is released at the provider.")
    return redirect("staff_numbers:number", number_id=number.pk)


@require_POST
@staff_required
def number_assign(request: HttpRequest, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id, status=PhoneNumber.Status.UNASSIGNED)
    form = AssignForm(request.POST)
    if form.is_valid():
        infobip_services.infobip_assign(
            number=number, tenant=form.cleaned_data["tenant"], actor=request.user
        )
        messages.success(request, f"{number.number} now belongs to {form.cleaned_data['tenant']}.")
    else:
        messages.error(request, "Choose an active tenant.")
    return redirect("staff_numbers:number", number_id=number.pk)


@staff_required
def rent_for_tenant(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = RentForm(request.POST or None, initial={"request_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with scope(tenant=tenant.pk):
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
            messages.success(request, f"Rented {number.number} for {tenant.name}.")
            return redirect("staff_numbers:number", number_id=number.pk)
    return render(
        request,
        "staff/rent_for_tenant.html",
        {"t": tenant, "form": form, "prices": _catalogue_for(tenant)},
        status=400 if request.method == "POST" else 200,
    )


def _catalogue_for(tenant: Tenant) -> list[tuple[NumberPrice, int, int]]:
    """Each offered country and category: the tenant's plan price, 46elks' cost, margin."""
    rater = Rater()
    rows = []
    for row in NumberPrice.objects.filter(currency=tenant.currency):
        price = monthly_price_quote(
            tenant_id=tenant.pk,
            country=row.country,
            category=row.category,
            cost=row.monthly_price,
            rater=rater,
        )
        rows.append((row, price, price - row.monthly_price))
    return rows


@staff_required
def prices(request: HttpRequest) -> HttpResponse:
    form = PriceForm(request.POST or None, prefix="price")
    policy_form = PolicyForm(instance=NumberPolicy.current(), prefix="policy")
    if request.method == "POST" and "policy-quarantine_days" in request.POST:
        policy_form = PolicyForm(request.POST, instance=NumberPolicy.current(), prefix="policy")
        form = PriceForm(prefix="price")
        if policy_form.is_valid():
            policy_form.save()
            messages.success(request, "Quarantine period saved.")
            return redirect("staff_numbers:prices")
    elif request.method == "POST":
        existing = NumberPrice.objects.filter(
            country=request.POST.get("price-country", "").strip().lower(),
            category=request.POST.get("price-category"),
            currency=request.POST.get("price-currency", "").strip().upper(),
        ).first()
        form = PriceForm(request.POST, instance=existing, prefix="price")
        if form.is_valid():
            form.save()
            messages.success(request, "Price saved.")
            return redirect("staff_numbers:prices")
    return render(
        request,
        "staff/prices.html",
        {"form": form, "policy_form": policy_form, "prices": NumberPrice.objects.all()},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def tenant_close_view(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = CloseTenantForm(request.POST or None, tenant=tenant)
    live = PhoneNumber.objects.filter(
        tenant=tenant, status__in=[PhoneNumber.Status.ACTIVE, PhoneNumber.Status.QUARANTINED]
    )
    if request.method == "POST" and form.is_valid():
        try:
            tenant_close(tenant=tenant, actor=request.user, request=request)
        except NumberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{tenant.name} is closed; its history stays readable.")
            return redirect("staff:tenant", slug=tenant.slug)
    return render(
        request,
        "staff/tenant_close.html",
        {"t": tenant, "form": form, "live": live},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def tenant_rotate_callbacks(request: HttpRequest, slug: str) -> HttpResponse:
    """Confirm, then give every number of the tenant a new callback token at 46elks."""
    tenant = get_object_or_404(Tenant, slug=slug)
    form = RotateCallbacksForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        rotated, failed = tenant_callback_tokens_rotate(
            tenant=tenant,
            actor=request.user,
            keep_old=not form.cleaned_data["revoke_old"],
            request=request,
        )
        if rotated:
            messages.success(
                request, f"New callback URLs registered at 46elks for {len(rotated)} number(s)."
            )
        for number, error in failed.items():
            messages.error(request, f"{number} kept its old URLs: {error}")
        if not rotated and not failed:
            messages.info(request, f"{tenant.name} has no numbers with callback URLs.")
        return redirect("staff:tenant", slug=tenant.slug)
    return render(
        request,
        "staff/tenant_rotate_callbacks.html",
        {"t": tenant, "form": form, "numbers": tenant_callback_numbers(tenant=tenant)},
        status=400 if request.method == "POST" else 200,
    )


# --- Infobip -----------------------------------------------------------------------------------


@staff_required
def infobip_search(request: HttpRequest) -> HttpResponse:
    if not infobip_configured():
        return render(request, "staff/infobip.html", {"configured": False})
    form = InfobipSearchForm(request.GET or None)
    result, error = None, None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = infobip_services.infobip_available(
                country=data["country"],
                capabilities=data["capabilities"],
                number=data["number"] or None,
                page=data["page"] or 0,
            )
        except infobip_services.InfobipProblem as exc:
            error = str(exc)
    return render(
        request,
        "staff/infobip.html",
        {
            "configured": True,
            "form": form,
            "result": result,
            "error": error,
            "tenants": Tenant.objects.filter(status=Tenant.Status.ACTIVE),
        },
    )


@require_POST
@staff_required
def infobip_purchase(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("number_key", "")
    tenant = Tenant.objects.filter(pk=request.POST.get("tenant") or 0).first()
    try:
        number = infobip_services.infobip_purchase(
            number_key=key,
            tenant=tenant,
            actor=request.user,
            number_digits=request.POST.get("number", "").strip().lstrip("+"),
        )
    except infobip_services.InfobipProblem as exc:
        messages.error(request, str(exc))
        # Back to the search the form came from (its `next`), never to the Referer header.
        return redirect(next_url(request, "staff_numbers:infobip"))
    messages.success(request, f"Bought {number.number} at Infobip.")
    return redirect("staff_numbers:number", number_id=number.pk)


@staff_required
def infobip_owned(request: HttpRequest) -> HttpResponse:
    if not infobip_configured():
        return render(request, "staff/infobip_owned.html", {"configured": False})
    page = (
        max(0, int(request.GET.get("page", "0") or 0))
        if request.GET.get("page", "0").isdigit()
        else 0
    )
    try:
        owned, error = infobip_services.infobip_owned_page(page=page), None
    except infobip_services.InfobipProblem as exc:
        owned, error = None, str(exc)
    local = {
        n.provider_id: n
        for n in PhoneNumber.objects.filter(provider=Provider.INFOBIP).select_related("tenant")
    }
    return render(
        request,
        "staff/infobip_owned.html",
        {"configured": True, "owned": owned, "error": error, "local": local, "page": page},
    )


@staff_required
def infobip_number(request: HttpRequest, number_key: str) -> HttpResponse:
    try:
        item, error = infobip_services.infobip_get(number_key), None
    except infobip_services.InfobipProblem as exc:
        item, error = None, str(exc)
    local = PhoneNumber.objects.filter(provider=Provider.INFOBIP, provider_id=number_key).first()
    return render(
        request,
        "staff/infobip_number.html",
        {"item": item, "error": error, "local": local, "key": number_key},
    )

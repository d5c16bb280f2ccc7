"""Staff pages for billing: rate plans and their versions, each tenant's billing account
(plan, mode and limit, alerts, VAT and invoice details, top-ups), staff alerts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from accounts.access import staff_required
from accounts.models import Tenant
from billing.account_services import account_settings_update, account_top_up
from billing.alerts.services import staff_alert_resolve
from billing.models import BillingAlert, Reconciliation, StaffAlert, TopUp
from billing.plans.forms import (
    AssignPlanForm,
    PlanEditForm,
    PlanForm,
    PriceFormSet,
    VersionAddForm,
    VersionForm,
)
from billing.plans.models import RatePlan, RatePlanVersion
from billing.plans.selectors import plan_versions, plans_list, version_prices
from billing.plans.services import (
    PlanError,
    plan_assign,
    plan_create,
    plan_default_set,
    plan_update,
    version_add,
    version_is_editable,
    version_prices_save,
)
from billing.selectors import period_usage
from billing.services import account_for
from billing.staff_forms import BillingSettingsForm, TopUpForm
from core.redirects import next_url

SECTION = {"staff_section": "plans"}


@staff_required
def plans(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None, initial={"currency": "SEK"})
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                currency=form.cleaned_data["currency"],
                actor=request.user,
                request=request,
            )
        except IntegrityError:
            form.add_error("name", "A plan with that name exists.")
        else:
            messages.success(request, f"Created {plan.name}. Add its prices below.")
            return redirect("staff_billing:plan", plan_id=plan.pk)
    return render(
        request,
        "billing/staff/plans.html",
        {"plans": plans_list(), "form": form, **SECTION},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RatePlan, pk=plan_id)
    today = timezone.localdate()
    edit_form = PlanEditForm(request.POST or None, instance=plan, prefix="plan")
    add_form = VersionAddForm(prefix="version", today=today)
    if request.method == "POST" and edit_form.is_valid():
        try:
            plan_update(
                plan=plan,
                name=edit_form.cleaned_data["name"],
                description=edit_form.cleaned_data["description"],
                actor=request.user,
                request=request,
            )
        except IntegrityError:
            edit_form.add_error("name", "A plan with that name exists.")
        else:
            messages.success(request, "Plan saved.")
            return redirect("staff_billing:plan", plan_id=plan.pk)
    return _plan_page(request, plan, edit_form=edit_form, add_form=add_form)


def _plan_page(request: HttpRequest, plan: RatePlan, **forms: Any) -> HttpResponse:
    today = timezone.localdate()
    plan.refresh_from_db()
    return render(
        request,
        "billing/staff/plan_detail.html",
        {
            "plan": plan,
            "versions": plan_versions(plan=plan, today=today),
            "today": today,
            "tenants": plan.accounts.select_related("tenant").order_by("tenant__name")[:50],
            **SECTION,
            **forms,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@staff_required
def plan_default(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RatePlan, pk=plan_id)
    plan_default_set(plan=plan, actor=request.user, request=request)
    messages.success(request, f"{plan.name} is now the default plan for new tenants.")
    return redirect("staff_billing:plan", plan_id=plan.pk)


@require_POST
@staff_required
def version_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(RatePlan, pk=plan_id)
    today = timezone.localdate()
    form = VersionAddForm(request.POST, prefix="version", today=today)
    if form.is_valid():
        try:
            version = version_add(
                plan=plan,
                effective_from=form.cleaned_data["effective_from"],
                today=today,
                actor=request.user,
                request=request,
            )
        except PlanError as exc:
            form.add_error("effective_from", str(exc))
        else:
            messages.success(request, f"Version from {version.effective_from} added: set prices.")
            return redirect("staff_billing:version", version_id=version.pk)
    edit_form = PlanEditForm(instance=plan, prefix="plan")
    return _plan_page(request, plan, edit_form=edit_form, add_form=form)


@staff_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(RatePlanVersion.objects.select_related("plan"), pk=version_id)
    today = timezone.localdate()
    editable = version_is_editable(version=version, today=today)
    prices = version_prices(version=version)
    initial = [
        {"kind": p.kind, "country": p.country.upper(), "category": p.category, "price": p.price}
        for p in prices
    ]
    form = VersionForm(instance=version, prefix="v")
    formset = PriceFormSet(initial=initial, prefix="prices")
    if request.method == "POST" and editable:
        form = VersionForm(request.POST, instance=version, prefix="v")
        formset = PriceFormSet(request.POST, initial=initial, prefix="prices")
        if form.is_valid() and formset.is_valid():
            try:
                version_prices_save(
                    version=version,
                    fields=form.version_fields(),
                    rows=formset.rows(),
                    today=today,
                    actor=request.user,
                    request=request,
                )
            except PlanError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Prices saved.")
                return redirect("staff_billing:version", version_id=version.pk)
    elif request.method == "POST":
        messages.error(request, "This version is in force or past: it is read-only.")
    return render(
        request,
        "billing/staff/version.html",
        {
            "plan": version.plan,
            "version": version,
            "editable": editable,
            "prices": prices,
            "form": form,
            "formset": formset,
            **SECTION,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- a tenant's billing account ---------------------------------------------------------------


@staff_required
def tenant_billing(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    return _tenant_page(request, tenant)


def _tenant_page(request: HttpRequest, tenant: Tenant, **forms: Any) -> HttpResponse:
    account = account_for(tenant)
    with scopes_disabled():
        top_ups = list(TopUp.objects.filter(tenant=tenant).select_related("created_by")[:20])
        alerts = list(BillingAlert.objects.filter(tenant=tenant)[:10])
        checks = list(Reconciliation.objects.filter(tenant=tenant)[:5])
    context = {
        "t": tenant,
        "account": account,
        "usage": period_usage(tenant=tenant),
        "plan_form": forms.get("plan_form") or AssignPlanForm(initial={"plan": account.plan_id}),
        "settings_form": forms.get("settings_form") or BillingSettingsForm(instance=account),
        "top_up_form": forms.get("top_up_form") or TopUpForm(),
        "top_ups": top_ups,
        "alerts": alerts,
        "checks": checks,
        **SECTION,
    }
    return render(
        request,
        "billing/staff/tenant.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@staff_required
def tenant_plan(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = AssignPlanForm(request.POST)
    if not form.is_valid():
        return _tenant_page(request, tenant, plan_form=form)
    plan_assign(tenant=tenant, plan=form.cleaned_data["plan"], actor=request.user, request=request)
    messages.success(request, f"{tenant.name} is on {form.cleaned_data['plan'].name}.")
    return redirect("staff_billing:tenant", slug=slug)


@require_POST
@staff_required
def tenant_settings(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = BillingSettingsForm(request.POST, instance=account_for(tenant))
    if not form.is_valid():
        return _tenant_page(request, tenant, settings_form=form)
    warning = account_settings_update(
        tenant=tenant, values=form.values(), actor=request.user, request=request
    )
    messages.success(request, "Billing settings saved.")
    if warning:
        messages.warning(request, warning)
    return redirect("staff_billing:tenant", slug=slug)


@require_POST
@staff_required
def tenant_top_up(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = TopUpForm(request.POST)
    if form.is_valid() and not account_for(tenant).is_prepaid:
        form.add_error(None, "Top-ups are for prepaid tenants: switch the mode first.")
    if not form.is_valid():
        return _tenant_page(request, tenant, top_up_form=form)
    _, warning = account_top_up(
        tenant=tenant,
        amount=form.cleaned_data["amount"],
        note=form.cleaned_data["note"],
        actor=request.user,
        request=request,
    )
    messages.success(request, "Top-up recorded.")
    if warning:
        messages.warning(request, warning)
    return redirect("staff_billing:tenant", slug=slug)


@require_POST
@staff_required
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(StaffAlert, pk=alert_id)
    staff_alert_resolve(alert=alert)
    return redirect(next_url(request, "staff:console"))

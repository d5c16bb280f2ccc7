"""The staff console: tenants, their 46elks subaccounts, and staff views of a portal."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from accounts.forms import ConfirmForm, TenantCreateForm, UsageLimitForm
from accounts.models import AuditEvent, Membership, OrphanSubaccount, Tenant
from accounts.services import TenantError, staff_view_end
from billing.models import BillingAccount
from billing.selectors import PeriodUsage, period_usage, period_usage_of
from billing.services import account_for
from console.sync import provider_sync
from console.tenants import tenant_create, tenant_reactivate, tenant_set_limit, tenant_suspend
from core.crypto import mask
from providers.clients import elks_master
from providers.elks.errors import ElksError

TENANTS_PER_PAGE = 50


@staff_required
def console(request: HttpRequest) -> HttpResponse:
    tenants = Tenant.objects.select_related("billing").order_by("name")
    status = request.GET.get("status", "")
    if status in Tenant.Status.values:
        tenants = tenants.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        tenants = tenants.filter(name__icontains=query)
    page = Paginator(tenants, TENANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/console.html",
        {
            "page": page,
            "spend": _spend(page),
            "status": status,
            "query": query,
            "statuses": Tenant.Status.choices,
            "orphans": OrphanSubaccount.objects.filter(resolved=None),
            "events": AuditEvent.objects.select_related("actor", "tenant")[:15],
        },
    )


def _spend(tenants: Iterable[Tenant]) -> dict[int, PeriodUsage]:
    """This period's priced spend per tenant: the figure the tenant sees, no query each."""
    spend = {}
    for tenant in tenants:
        try:
            account = tenant.billing
        except BillingAccount.DoesNotExist:
            account = account_for(tenant)
        spend[tenant.pk] = period_usage_of(account)
    return spend


@staff_required
def balance(request: HttpRequest) -> HttpResponse:
    """The master account's balance, loaded after the page so a slow 46elks cannot hold it."""
    try:
        account = elks_master(timeout=settings.ELKS_PAGE_TIMEOUT).me()
        error = None
    except ElksError as exc:
        account, error = None, str(exc)
    return render(request, "staff/console.html#balance", {"account": account, "error": error})


@staff_required
def tenant_new(request: HttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = tenant_create(
                name=form.cleaned_data["name"],
                usage_limit=form.cleaned_data["usage_limit"],
                owner_email=form.cleaned_data["owner_email"],
                actor=request.user,
                request=request,
            )
        except TenantError as exc:
            form.add_error(None, str(exc))
        else:
            if created.owner_existing:
                messages.success(
                    request,
                    f"Created {created.tenant.name}. {created.owner.email} already had an "
                    "account and was added as owner; they sign in with their own password "
                    "(they have been emailed).",
                )
                return redirect("staff:tenant", slug=created.tenant.slug)
            # Stored in the session only until shown: staff see the link exactly once.
            request.session["set_password_link"] = {
                "tenant": created.tenant.slug,
                "email": created.owner.email,
                "link": created.set_password_link,
            }
            messages.success(request, f"Created {created.tenant.name}.")
            return redirect("staff:tenant", slug=created.tenant.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/tenant_new.html", {"form": form}, status=status)


@staff_required
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    link = request.session.get("set_password_link")
    if link and link.get("tenant") == slug:
        del request.session["set_password_link"]
    else:
        link = None
    return render(request, "staff/tenant_detail.html", _detail_context(tenant, link=link))


def _detail_context(tenant: Tenant, **extra: object) -> dict[str, object]:
    return {
        "t": tenant,
        "secret_masked": mask(tenant.elks_secret),
        "limit_form": extra.pop("limit_form", None)
        or UsageLimitForm(initial={"usage_limit": account_for(tenant).monthly_limit}),
        "usage": period_usage(tenant=tenant),
        "memberships": Membership.objects.filter(tenant=tenant).select_related("user"),
        "events": AuditEvent.objects.filter(tenant=tenant).select_related("actor")[:20],
        **extra,
    }


@require_POST
@staff_required
def tenant_limit(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = UsageLimitForm(request.POST)
    if form.is_valid():
        try:
            tenant_set_limit(
                tenant=tenant,
                usage_limit=form.cleaned_data["usage_limit"],
                actor=request.user,
                request=request,
            )
        except TenantError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Monthly limit saved; the 46elks backstop follows it.")
            return redirect("staff:tenant", slug=slug)
    return render(
        request, "staff/tenant_detail.html", _detail_context(tenant, limit_form=form), status=400
    )


def _status_change(request: HttpRequest, slug: str, *, action: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    form = ConfirmForm(request.POST or None, expected=tenant.name)
    if request.method == "POST" and form.is_valid():
        change = tenant_suspend if action == "suspend" else tenant_reactivate
        try:
            change(tenant=tenant, actor=request.user, request=request)
        except TenantError as exc:
            form.add_error(None, str(exc))
        else:
            done = "suspended" if action == "suspend" else "reactivated"
            messages.success(request, f"{tenant.name} is {done}.")
            return redirect("staff:tenant", slug=slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "staff/tenant_status.html",
        {"t": tenant, "form": form, "action": action},
        status=status,
    )


@staff_required
def tenant_suspend_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_change(request, slug, action="suspend")


@staff_required
def tenant_reactivate_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_change(request, slug, action="reactivate")


@require_POST
@staff_required
def tenant_view_start(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    # The middleware records the start on the first portal request.
    return redirect("portal:dashboard", tenant_slug=tenant.slug)


@require_POST
@staff_required
def view_end(request: HttpRequest) -> HttpResponse:
    tenant = staff_view_end(request=request)
    if tenant is not None:
        return redirect("staff:tenant", slug=tenant.slug)
    return redirect("staff:console")


@require_POST
@staff_required
def sync_now(request: HttpRequest) -> HttpResponse:
    try:
        result = provider_sync()
    except ElksError as exc:
        messages.error(request, f"Sync failed: {exc}")
    else:
        messages.info(request, str(result))
    return redirect("staff:console")


@require_POST
@staff_required
def orphan_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    orphan = get_object_or_404(OrphanSubaccount, pk=pk, resolved=None)
    orphan.resolved = timezone.now()
    orphan.save(update_fields=["resolved"])
    messages.success(request, f"Marked subaccount {orphan.subaccount_id} as handled.")
    return redirect("staff:console")


@staff_required
def demo_panel(request: HttpRequest) -> HttpResponse:
    """Simulate provider events in `make demo` (404 anywhere else)."""
    from django.http import Http404

    from console.demo_panel import DemoActionForm, DemoPanelError, demo_action

    if not getattr(settings, "DEMO_ADDR", None):
        raise Http404
    form = DemoActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.numbers.get(form.cleaned_data.get("number") or 0)
        try:
            done = demo_action(
                data=form.cleaned_data, number=number, actor=request.user, request=request
            )
        except DemoPanelError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("staff:demo")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "staff/demo.html", {"form": form, "staff_section": "demo"}, status=status
    )

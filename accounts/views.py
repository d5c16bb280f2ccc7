"""Sign-in, the tenant picker and the members page (the dashboard is console.views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.access import role_required, user_tenants
from accounts.forms import InviteForm, LoginForm, ProfileForm
from accounts.models import AuditEvent, Membership
from accounts.services import TenantError, member_invite, member_remove, member_remove_refusal


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SetPasswordView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("password_set_done")


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/set_password_done.html"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff go to the console; customers to their tenant (or pick one when they have several)."""
    if request.user.is_staff:
        return redirect("staff:console")
    memberships = user_tenants(request.user)
    if len(memberships) == 1:
        return redirect("portal:dashboard", tenant_slug=memberships[0].tenant.slug)
    return redirect("choose_tenant")


@login_required
def choose_tenant(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("staff:console")
    return render(
        request, "accounts/choose_tenant.html", {"memberships": user_tenants(request.user)}
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("profile")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)


def members(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = InviteForm(tenant=tenant)
    return render(request, "accounts/members.html", _members_context(tenant, form))


def _members_context(tenant: object, form: InviteForm) -> dict[str, object]:
    memberships = list(Membership.objects.filter(tenant=tenant).select_related("user"))
    owners = sum(m.is_owner for m in memberships)
    return {
        "section": "members",
        "form": form,
        # Each with why it cannot be removed ("" when it can): "Remove" only where it works.
        "memberships": [(m, member_remove_refusal(m, owners=owners)) for m in memberships],
        "events": AuditEvent.objects.filter(
            tenant=tenant,
            action__in=[AuditEvent.Action.MEMBER_INVITED, AuditEvent.Action.MEMBER_REMOVED],
        ).select_related("actor")[:10],
    }


@require_POST
@role_required(Membership.Role.OWNER)
def member_invite_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    form = InviteForm(request.POST, tenant=tenant)
    if form.is_valid():
        try:
            member_invite(
                tenant=tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
                request=request,
            )
        except TenantError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invited {form.cleaned_data['email']}; they got an email.")
            return redirect("portal:members", tenant_slug=tenant.slug)
    return render(request, "accounts/members.html", _members_context(tenant, form), status=400)


@role_required(Membership.Role.OWNER)
def member_remove_view(request: HttpRequest, tenant_slug: str, membership_id: int) -> HttpResponse:
    tenant = request.tenant
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, tenant=tenant
    )
    if request.method == "POST":
        try:
            member_remove(membership=membership, actor=request.user, request=request)
        except TenantError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Removed {membership.user.email}.")
        return redirect("portal:members", tenant_slug=tenant.slug)
    return render(
        request,
        "accounts/member_remove.html",
        {"section": "members", "membership": membership},
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")

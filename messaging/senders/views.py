"""The tenant's Sender names page: the names it may send from, and requests for new ones.

Members see the list; owners request and withdraw (the decisions are staff's).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import role_required
from accounts.models import Membership
from messaging.senders.forms import SenderNameRequestForm
from messaging.senders.models import SenderName
from messaging.senders.services import (
    SenderNameError,
    sender_name_request,
    sender_name_withdraw,
)
from numbers.models import PhoneNumber

OWNER = Membership.Role.OWNER


def _page(request: HttpRequest, form: SenderNameRequestForm, status: int = 200) -> HttpResponse:
    rows = list(SenderName.objects.select_related("requested_by").order_by("-created", "-id"))
    context = {
        "section": "messages",
        "form": form,
        "approved": [r for r in rows if r.status == SenderName.Status.APPROVED],
        "pending": [r for r in rows if r.status == SenderName.Status.PENDING],
        "closed": [r for r in rows if r.status not in SenderName.OPEN][:50],
        "numbers": list(
            PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE, has_sms=True)
            .exclude(number="")
            .order_by("number")
            .values_list("number", flat=True)
        ),
        "can_manage": request.tenant_access.can_manage,
    }
    return render(request, "messaging/senders.html", context, status=status)


@require_GET
def sender_names(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return _page(request, SenderNameRequestForm())


@require_POST
@role_required(OWNER)
def sender_name_request_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    form = SenderNameRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        sender = sender_name_request(
            tenant=request.tenant,
            name=form.cleaned_data["name"],
            purpose=form.cleaned_data["purpose"],
            actor=request.user,
            request=request,
        )
    except SenderNameError as exc:
        form.add_error("name", str(exc))
        return _page(request, form, status=400)
    messages.success(
        request, f"“{sender.name}” is requested. You can send from it once we have approved it."
    )
    return redirect("senders:list", tenant_slug=tenant_slug)


@require_POST
@role_required(OWNER)
def sender_name_withdraw_view(
    request: HttpRequest, tenant_slug: str, sender_name_id: int
) -> HttpResponse:
    sender = get_object_or_404(SenderName, pk=sender_name_id)
    try:
        sender_name_withdraw(sender=sender, actor=request.user, request=request)
    except SenderNameError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{sender.name}” is withdrawn: it can no longer be used.")
    return redirect("senders:list", tenant_slug=tenant_slug)

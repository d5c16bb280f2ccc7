"""Staff: sender-name requests from every tenant (pending first) and the deny list.

Pages under /staff/ run with tenant scopes disabled (accounts.middleware).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import staff_required
from messaging.senders.forms import DecisionForm, DenyForm
from messaging.senders.models import DeniedSenderName, SenderName
from messaging.senders.selectors import review_queue
from messaging.senders.services import (
    SenderNameError,
    deny_add,
    deny_hit,
    deny_remove,
    sender_name_approve,
    sender_name_reject,
    sender_name_revoke,
)


def _page(
    request: HttpRequest, *, deny_form: DenyForm | None = None, status: int = 200
) -> HttpResponse:
    pending, recent = review_queue()
    context = {
        "pending": [{"sender": s, "deny_hit": deny_hit(s.name)} for s in pending],
        "recent": recent,
        "deny_list": list(DeniedSenderName.objects.order_by("term")),
        "deny_form": deny_form or DenyForm(),
        "decision_form": DecisionForm(),
    }
    return render(request, "staff/senders.html", context, status=status)


@require_GET
@staff_required
def senders(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _decide(request: HttpRequest, sender_id: int, decision: str) -> HttpResponse:
    sender = get_object_or_404(SenderName.objects.select_related("tenant"), pk=sender_id)
    form = DecisionForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        if decision == "approve":
            sender_name_approve(sender=sender, actor=request.user, request=request)
            done = "approved"
        elif decision == "reject":
            sender_name_reject(sender=sender, reason=reason, actor=request.user, request=request)
            done = "rejected"
        else:
            paused = sender_name_revoke(
                sender=sender, reason=reason, actor=request.user, request=request
            )
            done = "revoked" + (f"; {paused} campaign(s) paused" if paused else "")
    except SenderNameError as exc:
        messages.error(request, f"{sender.tenant.name}: {exc}")
    else:
        messages.success(request, f"“{sender.name}” of {sender.tenant.name} is {done}.")
    return redirect("staff_senders:list")


@require_POST
@staff_required
def approve(request: HttpRequest, sender_id: int) -> HttpResponse:
    return _decide(request, sender_id, "approve")


@require_POST
@staff_required
def reject(request: HttpRequest, sender_id: int) -> HttpResponse:
    return _decide(request, sender_id, "reject")


@require_POST
@staff_required
def revoke(request: HttpRequest, sender_id: int) -> HttpResponse:
    return _decide(request, sender_id, "revoke")


@require_POST
@staff_required
def deny_create(request: HttpRequest) -> HttpResponse:
    form = DenyForm(request.POST)
    if not form.is_valid():
        return _page(request, deny_form=form, status=400)
    try:
        entry = deny_add(
            term=form.cleaned_data["term"],
            exact=form.cleaned_data["exact"],
            note=form.cleaned_data["note"],
            actor=request.user,
            request=request,
        )
    except SenderNameError as exc:
        form.add_error("term", str(exc))
        return _page(request, deny_form=form, status=400)
    messages.success(request, f"“{entry.term}” is on the deny list.")
    return redirect("staff_senders:list")


@require_POST
@staff_required
def deny_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(DeniedSenderName, pk=entry_id)
    deny_remove(entry=entry, actor=request.user, request=request)
    messages.success(request, f"“{entry.term}” is off the deny list.")
    return redirect("staff_senders:list")

"""Staff: stored provider events that failed processing (or wait), with a retry button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import staff_required
from core.pagination import keyset_page
from providers.models import WebhookEvent
from providers.selectors import webhook_backlog
from providers.services import webhook_retry


@staff_required
@vary_on_headers("HX-Request")
def events(request: HttpRequest) -> HttpResponse:
    backlog = webhook_backlog()
    status = request.GET.get("status") or WebhookEvent.Status.FAILED
    if status not in WebhookEvent.Status.values:
        status = WebhookEvent.Status.FAILED
    # No count for processed: it is most of the table, and counting it meant reading all of it.
    counts: dict[str, int] = {
        WebhookEvent.Status.PENDING: backlog.pending,
        WebhookEvent.Status.FAILED: backlog.failed,
    }
    context = {
        "backlog": backlog,
        "status": status,
        "statuses": [
            (value, label, counts.get(value)) for value, label in WebhookEvent.Status.choices
        ],
    }
    if request.htmx:  # the backlog panel refreshing itself, status links included
        return render(request, "staff/webhooks.html#backlog", context)
    qs = WebhookEvent.objects.filter(status=status).select_related("tenant")
    context["page"] = keyset_page(qs, cursor=request.GET.get("after"), size=50, field="received")
    return render(request, "staff/webhooks.html", context)


@require_POST
@staff_required
def retry(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(WebhookEvent, pk=event_id)
    webhook_retry(event=event)
    event.refresh_from_db()
    if event.status == WebhookEvent.Status.PROCESSED:
        messages.success(request, f"Event {event.pk} processed.")
    elif event.status == WebhookEvent.Status.PENDING:
        messages.warning(
            request, f"Event {event.pk} hit a temporary error and will be retried: {event.error}"
        )
    else:
        messages.error(request, f"Event {event.pk} failed again: {event.error}")
    return redirect("staff_webhooks:list")

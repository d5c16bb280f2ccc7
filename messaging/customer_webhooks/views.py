"""Owner pages for customer webhooks: the signing secret, a number's delivery log, and event
endpoints with their delivery logs."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import role_required
from accounts.models import Membership
from core.crypto import mask
from messaging.customer_webhooks import endpoints as event_webhooks
from messaging.customer_webhooks import services as customer_webhooks
from messaging.customer_webhooks.forms import EndpointForm
from messaging.customer_webhooks.models import (
    EVENT_TEST,
    CustomerWebhook,
    Event,
    EventDelivery,
    WebhookDelivery,
    WebhookEndpoint,
)
from messaging.customer_webhooks.selectors import delivery_log_page, endpoint_log_page
from numbers.models import PhoneNumber

OWNER = Membership.Role.OWNER
LOG_PAGE_SIZE = 25


def _settings_context(
    request: HttpRequest, new_secret: str = "", endpoint_form: EndpointForm | None = None
) -> dict[str, object]:
    webhook = CustomerWebhook.objects.first()
    overlap_until = None
    if webhook and webhook.previous_secret:
        until = webhook.rotated + customer_webhooks.ROTATION_OVERLAP
        overlap_until = until if until > timezone.now() else None
    return {
        "section": "messages",
        "webhook": webhook,
        "masked_secret": mask(webhook.secret) if webhook else "",
        "overlap_until": overlap_until,
        "new_secret": new_secret,
        "numbers": PhoneNumber.objects.exclude(sms_webhook_url="").order_by("number"),
        "headers": {
            "timestamp": customer_webhooks.TIMESTAMP_HEADER,
            "signature": customer_webhooks.SIGNATURE_HEADER,
            "user_agent": customer_webhooks.USER_AGENT,
        },
        "image_url_days": settings.MMS_IMAGE_URL_DAYS,
        "endpoints": WebhookEndpoint.objects.order_by("created", "pk"),
        "endpoint_form": endpoint_form or EndpointForm(),
        "event_choices": Event.choices,
    }


@require_GET
def webhook_settings(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "messaging/webhooks/settings.html", _settings_context(request))


@require_POST
@role_required(OWNER)
@never_cache
def webhook_secret_rotate(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    # The answer shows the new secret, once, and is not cached (never_cache: no-store); no
    # redirect, which would need to carry the secret.
    new_secret = customer_webhooks.secret_rotate(
        tenant=request.tenant, actor=request.user, request=request
    )
    return render(
        request, "messaging/webhooks/settings.html", _settings_context(request, new_secret)
    )


@vary_on_headers("HX-Request")
def delivery_log(request: HttpRequest, tenant_slug: str, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _render_log(request, number)


def _render_log(request: HttpRequest, number: PhoneNumber, note: str = "") -> HttpResponse:
    page = delivery_log_page(number=number, cursor=request.GET.get("after"), size=LOG_PAGE_SIZE)
    context = {"section": "numbers", "number": number, "page": page, "note": note}
    template = "messaging/webhooks/log.html"
    return render(request, f"{template}#table" if request.htmx else template, context)


@require_POST
@role_required(OWNER)
def delivery_resend_view(request: HttpRequest, tenant_slug: str, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("number"), pk=delivery_id)
    resent = customer_webhooks.delivery_resend(delivery=delivery)
    if not resent:
        note = "That delivery is still being retried; it was not sent again."
    elif delivery.status == WebhookDelivery.Status.DELIVERED:
        note = "Sent again: your webhook answered 2xx."
    else:
        note = f"Sent again, without success ({delivery.last_error or 'no answer'})."
    if request.htmx:
        response = _render_log(request, delivery.number, note)
        response["HX-Trigger"] = '{"webhook-resent": null}'
        return response
    messages.info(request, note)
    return redirect("customer_webhooks:log", tenant_slug=tenant_slug, number_id=delivery.number_id)


# --- event endpoints -------------------------------------------------------------------------


@require_POST
@role_required(OWNER)
def endpoint_add_view(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    form = EndpointForm(request.POST)
    if not form.is_valid():
        context = _settings_context(request, endpoint_form=form)
        return render(request, "messaging/webhooks/settings.html", context, status=400)
    endpoint = event_webhooks.endpoint_add(
        tenant=request.tenant,
        url=form.cleaned_data["url"],
        events=form.cleaned_data["events"],
        description=form.cleaned_data["description"],
        actor=request.user,
        request=request,
    )
    messages.success(request, f"Endpoint added: {endpoint.url}")
    return redirect("customer_webhooks:settings", tenant_slug=tenant_slug)


@role_required(OWNER)
def endpoint_edit(request: HttpRequest, tenant_slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            event_webhooks.endpoint_change(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                actor=request.user,
                request=request,
            )
            messages.success(request, "Endpoint saved.")
            return redirect("customer_webhooks:settings", tenant_slug=tenant_slug)
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = EndpointForm(
            initial={
                "url": endpoint.url,
                "events": endpoint.events,
                "description": endpoint.description,
            }
        )
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    context = {"section": "messages", "endpoint": endpoint, "form": form}
    return render(request, "messaging/webhooks/endpoint_edit.html", context, status=status)


@require_POST
@role_required(OWNER)
def endpoint_pause(request: HttpRequest, tenant_slug: str, endpoint_id: int) -> HttpResponse:
    """Pause an active endpoint, or resume a paused one."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    event_webhooks.endpoint_change(
        endpoint=endpoint, active=not endpoint.active, actor=request.user, request=request
    )
    messages.info(request, "Endpoint resumed." if endpoint.active else "Endpoint paused.")
    return redirect("customer_webhooks:settings", tenant_slug=tenant_slug)


@require_POST
@role_required(OWNER)
def endpoint_delete(request: HttpRequest, tenant_slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    url = endpoint.url
    event_webhooks.endpoint_remove(endpoint=endpoint, actor=request.user, request=request)
    messages.info(request, f"Endpoint removed: {url}")
    return redirect("customer_webhooks:settings", tenant_slug=tenant_slug)


@require_POST
@role_required(OWNER)
def endpoint_test_view(request: HttpRequest, tenant_slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    delivery = event_webhooks.endpoint_test(endpoint=endpoint)
    if delivery.status == EventDelivery.Status.DELIVERED:
        messages.success(request, "Test event sent: your endpoint answered 2xx.")
    else:
        messages.warning(
            request, f"Test event not accepted ({delivery.last_error or 'no answer'}); retrying."
        )
    return redirect(
        "customer_webhooks:endpoint_log", tenant_slug=tenant_slug, endpoint_id=endpoint.pk
    )


@vary_on_headers("HX-Request")
def endpoint_log(request: HttpRequest, tenant_slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _render_endpoint_log(request, endpoint)


def _render_endpoint_log(
    request: HttpRequest, endpoint: WebhookEndpoint, note: str = ""
) -> HttpResponse:
    events = [EVENT_TEST, *event_webhooks.EVENTS]
    event = request.GET.get("event", "")
    status = request.GET.get("status", "")
    # Unknown filter values are ignored rather than answered with an empty page.
    event = event if event in events else ""
    status = status if status in EventDelivery.Status.values else ""
    page = endpoint_log_page(
        endpoint=endpoint,
        cursor=request.GET.get("after"),
        size=LOG_PAGE_SIZE,
        event=event,
        status=status,
    )
    filters = "&".join(f"{k}={v}" for k, v in (("event", event), ("status", status)) if v)
    context = {
        "section": "messages",
        "endpoint": endpoint,
        "page": page,
        "note": note,
        "events": events,
        "statuses": EventDelivery.Status.choices,
        "event": event,
        "status": status,
        "filters": filters,
    }
    template = "messaging/webhooks/endpoint_log.html"
    return render(request, f"{template}#table" if request.htmx else template, context)


@require_POST
@role_required(OWNER)
def event_delivery_resend_view(
    request: HttpRequest, tenant_slug: str, event_delivery_id: int
) -> HttpResponse:
    # Only endpoint deliveries have a log page; a whendelivered post is the API's.
    delivery = get_object_or_404(
        EventDelivery.objects.select_related("endpoint").exclude(endpoint=None),
        pk=event_delivery_id,
    )
    resent = customer_webhooks.delivery_resend(delivery=delivery)
    if not resent:
        note = "That delivery is still being retried; it was not sent again."
    elif delivery.status == EventDelivery.Status.DELIVERED:
        note = "Sent again: your endpoint answered 2xx."
    else:
        note = f"Sent again, without success ({delivery.last_error or 'no answer'})."
    endpoint = delivery.endpoint
    assert endpoint is not None  # excluded above
    if request.htmx:
        response = _render_endpoint_log(request, endpoint, note)
        response["HX-Trigger"] = '{"webhook-resent": null}'
        return response
    messages.info(request, note)
    return redirect(
        "customer_webhooks:endpoint_log", tenant_slug=tenant_slug, endpoint_id=endpoint.pk
    )

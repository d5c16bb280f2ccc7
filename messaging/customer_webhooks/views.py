"""Owner pages for customer webhooks: the signing secret and a number's delivery log."""

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
from messaging.customer_webhooks import services as customer_webhooks
from messaging.customer_webhooks.models import CustomerWebhook, WebhookDelivery
from messaging.customer_webhooks.selectors import delivery_log_page
from numbers.models import PhoneNumber

OWNER = Membership.Role.OWNER
LOG_PAGE_SIZE = 25


def _settings_context(request: HttpRequest, new_secret: str = "") -> dict[str, object]:
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

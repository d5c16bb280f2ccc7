"""MMS images: served to the owning tenant's users, to 46elks by an unguessable token (outbound),
and to the tenant's webhook receiver by a signed, expiring link (inbound)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET
from django_scopes import scopes_disabled

from messaging.customer_webhooks.services import image_for_url
from messaging.models import MessageImage


def _file_response(image: MessageImage) -> FileResponse:
    if not image.file:
        raise Http404
    response = FileResponse(image.file.open("rb"), content_type=image.content_type or None)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def message_image(request: HttpRequest, tenant_slug: str, image_id: int) -> HttpResponse:
    """Inside the tenant scope: another tenant's image id is simply not found (any method)."""
    image = get_object_or_404(MessageImage, pk=image_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _file_response(image)


@require_GET
def mms_public_image(request: HttpRequest, token: str) -> FileResponse:
    """For 46elks fetching an outbound MMS image; the token is the only key."""
    with scopes_disabled():
        image = get_object_or_404(MessageImage, public_token=token, message__direction="out")
    return _file_response(image)


@require_GET
def mms_webhook_image(request: HttpRequest, token: str) -> FileResponse:
    """An inbound MMS image for the tenant's own webhook receiver: the signed link is the key."""
    image = image_for_url(token=token)
    if image is None:
        raise Http404
    return _file_response(image)

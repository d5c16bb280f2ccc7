"""46elks delivery reports: /hooks/elks/dlr/<message token>/ (the token is per message)."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from core.net import client_address
from messaging.models import Message
from providers.callbacks import CallbackRefused, callback_read, dedupe_key, token_plausible
from providers.http import source_allowed
from providers.services import webhook_store

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def elks_delivery_report(request: HttpRequest, token: str) -> HttpResponse:
    if not source_allowed(request):
        return HttpResponse("Forbidden source address", status=403, content_type="text/plain")
    if not token_plausible(token):
        raise Http404
    with scopes_disabled():
        tenant_id = (
            Message.objects.filter(callback_token=token).values_list("tenant_id", flat=True).first()
        )
    if tenant_id is None:
        log.warning("Delivery report with an unknown token from %s", client_address(request))
        raise Http404
    try:
        payload, key, raw = _report_read(request, token)
    except CallbackRefused as refused:
        return refused.response()
    webhook_store(
        provider="elks", kind="dlr", dedupe_key=key, payload=payload, raw=raw, tenant_id=tenant_id
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def elks_campaign_report(request: HttpRequest, token: str) -> HttpResponse:
    """Delivery reports for campaign sends: /hooks/elks/cdlr/<campaign token>/."""
    from messaging.campaigns.models import Campaign

    if not source_allowed(request):
        return HttpResponse("Forbidden source address", status=403, content_type="text/plain")
    if not token_plausible(token):
        raise Http404
    with scopes_disabled():
        tenant_id = (
            Campaign.objects.filter(callback_token=token)
            .values_list("tenant_id", flat=True)
            .first()
        )
    if tenant_id is None:
        log.warning("Campaign report with an unknown token from %s", client_address(request))
        raise Http404
    try:
        payload, key, raw = _report_read(request, token)
    except CallbackRefused as refused:
        return refused.response()
    webhook_store(
        provider="elks", kind="cdlr", dedupe_key=key, payload=payload, raw=raw, tenant_id=tenant_id
    )
    return HttpResponse(status=200)


def _report_read(request: HttpRequest, token: str) -> tuple[dict[str, str], str, bytes]:
    """Payload, de-duplication key (one row per message and status) and raw body."""
    callback = callback_read(request)
    payload = {**callback.fields, "_token": token}
    event_id = payload.get("id")
    key = f"{event_id}:{payload.get('status', '')}" if event_id else None
    return payload, dedupe_key(key, path=request.path_info, raw=callback.raw), callback.raw

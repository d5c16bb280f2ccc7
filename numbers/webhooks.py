"""46elks callbacks for a number: /hooks/elks/<token>/<kind>/.

The token authenticates (46elks signs nothing). An unknown token gets 404 and a log line,
nothing else. Events are stored raw in one INSERT before anything else and processed later
(providers.services); `voice` is answered with the call plan computed from the database, so
it never waits for a broker or worker. An inbound SMS is answered with an empty body:
its automatic reply, if any, is sent when the event is processed.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from numbers.routing import voice_action
from numbers.selectors import number_for_hook_token
from providers.http import client_address, source_allowed
from providers.services import webhook_store

log = logging.getLogger(__name__)

# kind in the URL → (event kind, the payload field that identifies the event)
KINDS = {
    "sms": ("sms", "id"),
    "mms": ("mms", "id"),
    "voice": ("voice_start", "callid"),
    "hangup": ("hangup", "id"),
    "recording": ("recording", "wav"),
    "voicemail": ("voicemail", "wav"),
}


@csrf_exempt
@require_POST
def elks_number_hook(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    if not source_allowed(request):
        log.warning("46elks callback refused from %s", client_address(request))
        return HttpResponse("Forbidden source address", status=403, content_type="text/plain")
    if kind not in KINDS:
        raise Http404
    number = number_for_hook_token(token, full=kind == "voice")
    if number is None:
        log.warning(
            "46elks callback with an unknown token (%s) from %s", kind, client_address(request)
        )
        raise Http404
    event_kind, id_field = KINDS[kind]
    payload = request.POST.dict()
    event_id = payload.get(id_field) or payload.get("id") or payload.get("callid")
    if id_field == "wav" and event_id:
        event_id = event_id.rsplit("/", 1)[-1]  # <callid>-r<n>.wav: one row per recording
    # Without an id there is nothing to de-duplicate on: keep it anyway, failed by processing.
    key = str(event_id)[:200] if event_id else f"no-id:{hash(frozenset(payload.items()))}"
    created = webhook_store(
        provider="elks",
        kind=event_kind,
        dedupe_key=key,
        payload=payload,
        tenant_id=number.tenant_id,
        number_id=number.pk,
    )
    if kind == "voice":
        if created:
            from calls.services import call_started

            call_started(number=number, payload=payload)
        return JsonResponse(voice_action(number))
    # Never a reply in the answer (46elks would send it at once): automatic replies are sent
    # when the event is processed, after its STOP or START is in the opt-out ledger
    # (messaging.inbound), so an opted-out sender gets none.
    return HttpResponse(status=200)

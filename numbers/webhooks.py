"""46elks callbacks for a number: /hooks/elks/<token>/<kind>/.

The token authenticates (46elks signs nothing). An unknown token gets 404 and a log line,
nothing else. Events are stored raw in one INSERT before anything else; `voice` is answered
with the call plan computed from the database, so it never waits for a broker or worker.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from numbers.routing import voice_action
from numbers.selectors import number_for_hook_token
from providers.services import webhook_store

log = logging.getLogger(__name__)

# kind in the URL → (event kind, the payload field that identifies the event)
KINDS = {
    "sms": ("sms", "id"),
    "mms": ("mms", "id"),
    "voice": ("voice_start", "callid"),
    "hangup": ("hangup", "id"),
    "recording": ("recording", "callid"),
}


@csrf_exempt
@require_POST
def elks_number_hook(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    number = number_for_hook_token(token)
    if number is None:
        log.warning(
            "46elks callback with an unknown token (%s) from %s",
            kind,
            request.META.get("REMOTE_ADDR"),
        )
        raise Http404
    event_kind, id_field = KINDS[kind]
    payload = request.POST.dict()
    event_id = payload.get(id_field) or payload.get("id") or payload.get("callid")
    if event_id:
        webhook_store(
            provider="elks",
            kind=event_kind,
            dedupe_key=str(event_id)[:200],
            payload=payload,
            tenant_id=number.tenant_id,
            number_id=number.pk,
        )
    else:
        log.warning("46elks %s callback without an id for number %s", kind, number.pk)
    if kind == "voice":
        return JsonResponse(voice_action(number))
    return HttpResponse(status=200)

"""46elks callbacks for a number: /hooks/elks/<token>/<kind>/.

The token authenticates (46elks signs nothing). An unknown token gets 404 and a log line,
nothing else. Events are stored raw in one INSERT before anything else and processed later
(providers.services, by the handlers each app registers in providers.events). `voice` is
answered by calls.webhooks (the call plan, computed from the database, so it never waits for
a broker or worker) through `number_callback_store` below. An inbound SMS is answered with an
empty body: its automatic reply, if any, is sent when the event is processed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.net import client_address
from numbers.models import PhoneNumber
from numbers.selectors import number_for_hook_token
from providers.callbacks import CallbackRefused, callback_read, dedupe_key, token_plausible
from providers.http import source_allowed
from providers.services import webhook_store

log = logging.getLogger(__name__)

# kind in the URL → (event kind, the payload field that identifies the event). `voice` has
# its own URL (calls.webhooks.elks_voice_start): it is answered with the call plan.
KINDS = {
    "sms": ("sms", "id"),
    "mms": ("mms", "id"),
    "hangup": ("hangup", "id"),
    "recording": ("recording", "wav"),
    "voicemail": ("voicemail", "wav"),
}


@dataclass(frozen=True)
class Stored:
    """A number's callback, stored: `created` is False for a replay."""

    number: PhoneNumber
    payload: dict[str, str]
    event_id: str | None
    created: bool


def number_callback_store(
    request: HttpRequest, *, token: str, kind: str, event_kind: str, id_field: str
) -> Stored | HttpResponse:
    """Authenticate a number's callback by its token and store it raw (one INSERT).

    A refusal comes back as the response to send (403, 4xx with a reason); an unknown or
    implausible token raises Http404.
    """
    if not source_allowed(request):
        log.warning("46elks callback refused from %s", client_address(request))
        return HttpResponse("Forbidden source address", status=403, content_type="text/plain")
    if not token_plausible(token):
        raise Http404
    number = number_for_hook_token(token, full=kind == "voice")
    if number is None:
        log.warning(
            "46elks callback with an unknown token (%s) from %s", kind, client_address(request)
        )
        raise Http404
    try:
        callback = callback_read(request)
    except CallbackRefused as refused:
        log.warning("46elks callback (%s) refused: %s", kind, refused.reason)
        return refused.response()
    payload = callback.fields
    event_id = payload.get(id_field) or payload.get("id") or payload.get("callid")
    if id_field == "wav" and event_id:
        event_id = event_id.rsplit("/", 1)[-1]  # <callid>-r<n>.wav: one row per recording
    # Without an id: a digest of the raw body, so only an identical replay is a duplicate.
    key = dedupe_key(event_id, path=request.path_info, raw=callback.raw)
    created = webhook_store(
        provider="elks",
        kind=event_kind,
        dedupe_key=key,
        payload=payload,
        raw=callback.raw,
        tenant_id=number.tenant_id,
        number_id=number.pk,
    )
    return Stored(number=number, payload=payload, event_id=event_id, created=created)


@csrf_exempt
@require_POST
def elks_number_hook(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    if kind not in KINDS:
        if not source_allowed(request):  # the same answer as for a known kind
            log.warning("46elks callback refused from %s", client_address(request))
            return HttpResponse("Forbidden source address", status=403, content_type="text/plain")
        raise Http404
    event_kind, id_field = KINDS[kind]
    stored = number_callback_store(
        request, token=token, kind=kind, event_kind=event_kind, id_field=id_field
    )
    if isinstance(stored, HttpResponse):
        return stored
    # Never a reply in the answer (46elks would send it at once): automatic replies are sent
    # when the event is processed, after its STOP or START is in the opt-out ledger
    # (messaging.inbound), so an opted-out sender gets none.
    return HttpResponse(status=200)

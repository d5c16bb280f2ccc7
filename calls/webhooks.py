"""46elks `voice_start` for a number: /hooks/elks/<token>/voice/, answered with the call plan.

Stored like every number callback (numbers.webhooks: token, raw event, one INSERT); the call
is recorded and the plan computed from the database inside the request, so the answer never
waits for a broker or worker. A non-2xx answer would end the caller's call: always the plan.
The other voice callbacks (hangup, recordings) are only stored here and handled by
calls.events.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.routing import voice_action
from calls.services import call_started
from numbers.webhooks import number_callback_store

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def elks_voice_start(request: HttpRequest, token: str) -> HttpResponse:
    stored = number_callback_store(
        request, token=token, kind="voice", event_kind="voice_start", id_field="callid"
    )
    if isinstance(stored, HttpResponse):
        return stored
    if stored.created:
        try:
            call_started(number=stored.number, payload=stored.payload)
        except DatabaseError:  # the event is stored and its hangup records the call
            log.exception("Could not record the start of call %s", stored.event_id)
    return JsonResponse(voice_action(stored.number))

"""The 46elks events calls reacts to, and their handlers: registered in CallsConfig.ready.

Each handler runs inside the event's transaction and tenant scope (providers.services) and
is idempotent: a call is keyed on its 46elks id, a recording on its recording id.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from calls.billing import call_rate
from calls.models import Call, Recording
from core.tasks import publish
from messaging.customer_webhooks.endpoints import call_completed_emit, recording_emit
from messaging.customer_webhooks.models import Event
from numbers.models import PhoneNumber
from providers.elks.callbacks import HangupEvent, RecordingEvent
from providers.events import PayloadError, register
from providers.models import WebhookEvent

log = logging.getLogger(__name__)

STATES = {c.value for c in Call.State}


def register_handlers() -> None:
    register("elks", "hangup", call_hangup)
    register("elks", "recording", recording_received)
    register("elks", "voicemail", recording_received)


def call_hangup(event: WebhookEvent) -> None:
    """Handler for `whenhangup`: complete the call (create it if voice_start never came)."""
    hangup = HangupEvent.from_form(event.payload)
    if hangup.state not in STATES:
        raise PayloadError(f'unknown state "{hangup.state}"')
    call = Call.objects.filter(elks_id=hangup.id).first()
    if call is None:
        number = PhoneNumber.objects.filter(pk=event.number_id).first()
        call = Call.objects.create(
            tenant_id=event.tenant_id,
            elks_id=hangup.id,
            direction=Call.Direction.IN if hangup.incoming else Call.Direction.OUT,
            number=number,
            ours=(number.number if number else hangup.to)[:20],
            other=(hangup.from_ if hangup.incoming else hangup.to),
            created=hangup.created or timezone.now(),
        )
    call.state = hangup.state
    call.start = hangup.start or call.start
    call.duration = hangup.duration if hangup.duration is not None else call.duration
    call.cost = hangup.cost if hangup.cost is not None else call.cost
    call.legs = hangup.legs or call.legs
    call.actions = hangup.actions or call.actions
    call.updated = timezone.now()
    call_rate(call=call, save=False)  # sets its price, saved with the rest in one UPDATE
    call.save()
    call_completed_emit(call=call)  # keyed on the call: a replayed hang-up emits nothing


def recording_received(event: WebhookEvent) -> None:
    """Handler for a recording callback (voicemail `record` or `recordcall`)."""
    recorded = RecordingEvent.from_form(event.payload)
    if Recording.objects.filter(elks_id=recorded.recording_id).exists():
        return
    recording = Recording.objects.create(
        tenant_id=event.tenant_id,
        call=Call.objects.filter(elks_id=recorded.callid).first(),
        callid=recorded.callid,
        elks_id=recorded.recording_id,
        kind=Recording.Kind.VOICEMAIL if event.kind == "voicemail" else Recording.Kind.CALL,
        duration=recorded.duration,
        wav_url=recorded.wav,
        created=recorded.created or timezone.now(),
    )
    Call.objects.filter(elks_id=recorded.callid).update(updated=timezone.now())
    if recording.kind == Recording.Kind.VOICEMAIL:
        recording_emit(recording=recording, event=Event.VOICEMAIL_RECEIVED)
    from calls.tasks import recording_download

    publish(recording_download, tenant_id=event.tenant_id, recording_id=recording.pk)  # or sweep

"""Writes for calls: calls started and ended, click-to-call, recordings and their audio.

A call appears when 46elks asks `voice_start` (in the request, from the database: that
answer must not wait for a broker) and is completed by `whenhangup`. Recordings are kept by
46elks for 72 hours only: each is a row that is downloaded with backoff until it has its
file, and staff are told about any still missing after 24 hours.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant, User
from calls.models import Call, CallSettings, Recording
from numbers.models import PhoneNumber
from numbers.phone import to_e164
from numbers.routing import hook_url
from providers.clients import elks_for_tenant
from providers.elks.callbacks import HangupEvent, RecordingEvent
from providers.elks.errors import ElksError
from providers.events import PayloadError
from providers.models import WebhookEvent

log = logging.getLogger(__name__)

RECORDING_ALERT_AFTER = timedelta(hours=24)
RECORDING_MAX_BYTES = 200 * 1024 * 1024  # far above 46elks' longest recording as 8 kHz WAV
STATES = {c.value for c in Call.State}


class CallError(Exception):
    """Refused; fit for the page."""


def settings_for(tenant: Tenant) -> CallSettings:
    found, _ = CallSettings.objects.get_or_create(tenant=tenant)
    return found


# --- inbound calls -------------------------------------------------------------------------


def call_started(*, number: PhoneNumber, payload: dict[str, str]) -> None:
    """Record an inbound call at `voice_start`: one INSERT that a replay cannot repeat."""
    callid = payload.get("callid") or payload.get("id")
    if not callid or number.tenant_id is None:
        return
    if len(callid) > Call._meta.get_field("elks_id").max_length:  # type: ignore[operator]
        log.warning("voice_start with a malformed callid (%d characters)", len(callid))
        return  # not a 46elks call id; an INSERT would fail and end the call
    other = payload.get("from", "")[:20]
    Call.objects.model._base_manager.bulk_create(
        [
            Call(
                tenant_id=number.tenant_id,
                elks_id=callid,
                direction=Call.Direction.IN,
                state=Call.State.ONGOING,
                source=Call.Source.INBOUND,
                number=number,
                ours=number.number,
                other=other,
            )
        ],
        ignore_conflicts=True,
    )


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
    call.save()


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
    tenant_id, pk = event.tenant_id, recording.pk
    transaction.on_commit(lambda: _enqueue_download(tenant_id, pk))


def _enqueue_download(tenant_id: int, recording_id: int) -> None:
    from calls.tasks import recording_download

    try:
        recording_download.apply_async(
            kwargs={"tenant_id": tenant_id, "recording_id": recording_id}, retry=False
        )
    except Exception:  # the beat sweep downloads it
        log.warning("Could not enqueue recording %s download", recording_id, exc_info=True)


# --- recordings ----------------------------------------------------------------------------


def recording_download(*, recording_id: int) -> bool:
    """Fetch the WAV by its 46elks id with the subaccount's credentials, through the client:
    the URL is the configured API base + id, never the callback's ``wav`` (kept for reference).

    A failure schedules the next attempt with backoff (1, 2, 4 ... 30 minutes).
    """
    recording = Recording.objects.select_related("tenant").get(pk=recording_id)
    if recording.downloaded:
        return True
    attempts = recording.attempts + 1
    try:
        content = elks_for_tenant(recording.tenant).recording_wav(
            recording.elks_id, max_bytes=RECORDING_MAX_BYTES
        )
        if not content.startswith(b"RIFF"):
            raise ValueError("the answer is not a WAV file")
    except (ElksError, ValueError) as exc:
        delay = timedelta(minutes=min(30, 2 ** (attempts - 1)))
        Recording.objects.filter(pk=recording.pk).update(
            attempts=attempts,
            last_error=str(exc)[:500],
            next_attempt=timezone.now() + delay,
        )
        return False
    recording.file.save(f"{recording.elks_id}.wav", ContentFile(content), save=False)
    recording.size = len(content)
    recording.downloaded = timezone.now()
    recording.attempts = attempts
    recording.last_error = ""
    recording.save()
    Call.objects.filter(pk=recording.call_id).update(updated=timezone.now())
    return True


@scopes_disabled()
def recordings_due(*, now: Any = None) -> int:
    """Beat: download what is due, and alert staff about recordings missing for 24 hours."""
    now = now or timezone.now()
    due = list(
        Recording.objects.filter(downloaded=None, audio_deleted=None, next_attempt__lte=now)
        .order_by("next_attempt")
        .values_list("tenant_id", "pk")[:200]
    )
    fetched = 0
    for tenant_id, pk in due:
        with scope(tenant=tenant_id):
            fetched += recording_download(recording_id=pk)
    missing = Recording.objects.filter(
        downloaded=None, alerted=None, created__lt=now - RECORDING_ALERT_AFTER
    ).select_related("tenant")
    missing = list(missing)
    if missing:
        staff = list(
            User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
        )
        lines = [
            f"{r.elks_id} ({r.tenant.name}): {r.last_error or 'not downloaded'}" for r in missing
        ]
        log.error("Recordings missing after 24 hours: %s", ", ".join(lines))
        if staff:
            send_mail(
                subject=f"{len(missing)} recording(s) still missing after 24 hours",
                message="46elks deletes recordings after 72 hours.\n\n" + "\n".join(lines),
                from_email=None,
                recipient_list=staff,
            )
        Recording.objects.filter(pk__in=[r.pk for r in missing]).update(alerted=now)
    return fetched


@scopes_disabled()
def recordings_retention(*, now: Any = None) -> int:
    """Delete audio older than each tenant's retention; the call and its metadata stay."""
    now = now or timezone.now()
    deleted = 0
    for prefs in CallSettings.objects.all():
        cutoff = now - timedelta(days=prefs.recording_retention_days)
        for recording in Recording.objects.filter(
            tenant_id=prefs.tenant_id, created__lt=cutoff, audio_deleted=None
        ).exclude(file=""):
            recording.file.delete(save=False)
            recording.audio_deleted = now
            recording.save(update_fields=["file", "audio_deleted"])
            deleted += 1
    return deleted


def recording_mark_heard(*, recording: Recording) -> None:
    if recording.heard is None:
        Recording.objects.filter(pk=recording.pk).update(heard=timezone.now())


# --- click-to-call -------------------------------------------------------------------------


def click_to_call(
    *, tenant: Tenant, user: User, number: PhoneNumber, to: str, request_key: uuid.UUID
) -> Call:
    """Ring the user's own phone first, then connect the customer with our number as caller id.

    Claimed by a Call row unique on the request key: a double click places one call.
    """
    if not user.phone:
        raise CallError("Add your own phone number to your profile first: 46elks rings it first.")
    if number.status != PhoneNumber.Status.ACTIVE or not number.has_voice:
        raise CallError("Choose an active number with voice.")
    region = (number.country or "se").upper()
    try:
        customer = to_e164(to, region=region)
        agent = to_e164(user.phone, region=region)
    except Exception as exc:
        raise CallError(str(getattr(exc, "message", exc))) from exc
    with transaction.atomic():
        call, created = Call.objects.get_or_create(
            request_key=request_key,
            defaults={
                "tenant": tenant,
                "direction": Call.Direction.OUT,
                "state": Call.State.QUEUED,
                "source": Call.Source.CLICK_TO_CALL,
                "number": number,
                "ours": number.number,
                "other": customer,
                "agent_phone": agent,
                "placed_by": user,
            },
        )
    if not created:
        return call
    try:
        remote = elks_for_tenant(tenant).call_create(
            from_=number.number,
            to=agent,
            voice_start={"connect": customer, "callerid": number.number},
            whenhangup=hook_url(number, "hangup"),
            timeout=30,
        )
    except ElksError as exc:
        state = Call.State.UNKNOWN if exc.maybe_accepted else Call.State.FAILED
        Call.objects.filter(pk=call.pk).update(
            state=state, error=str(exc)[:500], updated=timezone.now()
        )
        call.refresh_from_db()
        if state == Call.State.FAILED:
            raise CallError(f"46elks could not place the call: {exc}") from exc
        return call
    Call.objects.filter(pk=call.pk).update(
        elks_id=remote.id, state=Call.State.ONGOING, updated=timezone.now()
    )
    call.refresh_from_db()
    return call

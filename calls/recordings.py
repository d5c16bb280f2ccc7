"""Recordings' audio: downloaded by id through the 46elks client, kept for a while (beat jobs).

46elks keeps a recording for 72 hours only: each is a row (created by calls.events) that is
downloaded with backoff until it has its file, and staff are told about any still missing
after 24 hours. Each tenant's retention then deletes the audio; the call stays.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import User
from calls.models import Call, CallSettings, Recording
from messaging.customer_webhooks.endpoints import recording_emit
from messaging.customer_webhooks.models import Event
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError

log = logging.getLogger(__name__)

RECORDING_ALERT_AFTER = timedelta(hours=24)
RECORDING_MAX_BYTES = 200 * 1024 * 1024  # far above 46elks' longest recording as 8 kHz WAV


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
    with transaction.atomic():
        recording.save()
        Call.objects.filter(pk=recording.call_id).update(updated=timezone.now())
        recording_emit(recording=recording, event=Event.RECORDING_READY)
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

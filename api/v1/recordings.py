"""/api/v1/recordings: voicemail and call recordings, and their audio.

The audio is the file the recordings job downloaded from 46elks (calls.recordings), served as
the portal serves it (`calls.media.ranged_file`: whole, or a byte range); a recording not
downloaded yet, or whose audio the retention job deleted, is a 404. See docs/api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import Field

from api.errors import ApiDenied, scope_require
from api.request_types import KeyRequest
from api.v1.paging import moment, page_of
from api.v1.schemas import ERRORS, MAX_PAGE, Cursor, Id, RecordingKind
from calls.media import ranged_file
from calls.models import Recording

router = Router(tags=["Recordings"])


class RecordingOut(Schema):
    id: int
    call: int | None = Field(description="The call's id.")
    kind: RecordingKind
    duration: int = Field(description="Seconds.")
    created: datetime
    available: bool = Field(description="The audio can be downloaded now.")
    heard: datetime | None
    audio_deleted: datetime | None = Field(description="When retention deleted the audio.")

    @staticmethod
    def of(recording: Recording) -> dict[str, object]:
        return {
            "id": recording.pk,
            "call": recording.call_id,
            "kind": recording.kind,
            "duration": recording.duration,
            "created": recording.created,
            "available": bool(recording.file),
            "heard": recording.heard,
            "audio_deleted": recording.audio_deleted,
        }


class RecordingPage(Cursor):
    items: list[RecordingOut]


@router.get("", response={200: RecordingPage, **ERRORS}, summary="List recordings")
def recording_list(
    request: KeyRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    kind: RecordingKind | None = None,
    call: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Only this call's.")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Created before this time.")] = None,
) -> dict[str, object]:
    """Newest first. Pass `next` back as `cursor` for the following page."""
    scope_require(request, "read")
    qs = Recording.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if call:
        qs = qs.filter(call_id=call)
    if start := moment(since, "since"):
        qs = qs.filter(created__gte=start)
    if end := moment(until, "until"):
        qs = qs.filter(created__lt=end)
    page = page_of(qs, cursor=cursor, limit=limit)
    return {"items": [RecordingOut.of(r) for r in page.items], "next": page.next_cursor}


@router.get("/{recording_id}", response={200: RecordingOut, **ERRORS}, summary="Get a recording")
def recording_get(request: KeyRequest, recording_id: Id) -> dict[str, object]:
    scope_require(request, "read")
    return RecordingOut.of(get_object_or_404(Recording, pk=recording_id))


AUDIO = {
    "description": "The WAV audio (a byte range with `Range`: 206).",
    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
}


@router.get(
    "/{recording_id}/audio",
    response=ERRORS,
    summary="Download a recording's audio",
    openapi_extra={"responses": {200: AUDIO, 206: AUDIO}},
)
def recording_audio(request: KeyRequest, recording_id: Id) -> HttpResponse:
    """The WAV file; 404 while it is not downloaded from 46elks yet, or after retention."""
    scope_require(request, "read")
    recording = get_object_or_404(Recording, pk=recording_id)
    if not recording.file:
        raise ApiDenied(404, "This recording's audio is not here (not downloaded yet, or deleted).")
    return ranged_file(request, recording.file, "audio/wav", f"{recording.elks_id}.wav")

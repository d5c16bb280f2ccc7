"""Audio: recordings for the owning tenant's users (with HTTP ranges so players can seek),
and greetings for 46elks by an unguessable token (that greeting and nothing else)."""

from __future__ import annotations

import re

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from django_scopes import scopes_disabled

from calls.models import Greeting, Recording

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged_file(
    request: HttpRequest, file: FieldFile, content_type: str, filename: str
) -> HttpResponse:
    """The whole file, or one byte range of it (206), as browsers' audio players ask."""
    size = file.size
    header = request.headers.get("Range", "")
    match = RANGE.match(header.strip()) if header else None
    if header and not match:
        return _unsatisfiable(size)
    if match:
        first, last = match.groups()
        if first == "" and last == "":
            return _unsatisfiable(size)
        if first == "":  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            return _unsatisfiable(size)
        with file.open("rb") as handle:
            handle.seek(start)
            chunk = handle.read(end - start + 1)
        response = HttpResponse(chunk, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


@require_safe
def recording_audio(request: HttpRequest, tenant_slug: str, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(Recording, pk=recording_id)
    if not recording.file:
        raise Http404("This recording's audio is not here (not downloaded yet, or deleted).")
    return ranged_file(request, recording.file, "audio/wav", f"{recording.elks_id}.wav")


@require_safe
def greeting_public(request: HttpRequest, token: str) -> HttpResponse:
    with scopes_disabled():
        greeting = get_object_or_404(Greeting, public_token=token)
    return ranged_file(request, greeting.file, greeting.content_type, f"greeting-{greeting.pk}")

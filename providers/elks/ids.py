"""46elks object ids taken from callbacks: the only part of a callback URL we ever use.

A callback's ``wav`` or ``image`` URL is not trusted as a URL: URL parsers disagree on forms
such as ``https://api.46elks.com\\@evil.example/`` (one reads the host as 46elks, the HTTP
library as evil.example), so a hostname check on it can be passed. Instead the last path
segment must be a plain 46elks id (letters and digits, an optional ``-r0`` / ``-i0`` suffix)
and the download URL is rebuilt from the configured API base and that id
(:meth:`providers.elks.client.ElksClient.recording_wav` / ``image_file``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageRef",
    "image_ref_from_callback",
    "is_image_id",
    "is_recording_id",
    "recording_id_from_callback",
]

# 46elks ids are a letter and 32 hex digits (``c361e5…9b``); recordings add ``-r<n>``, MMS
# images ``-i<n>``. Kept a little looser in length (sandbox and older ids), never looser in
# alphabet: no dot, slash, percent, at-sign or backslash can reach a URL path.
_BASE = r"[A-Za-z0-9]{1,64}"
_RECORDING = re.compile(rf"{_BASE}-r[0-9]{{1,4}}")
_IMAGE = re.compile(rf"{_BASE}-i[0-9]{{1,4}}")
_CALL = re.compile(_BASE)
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif")


@dataclass(frozen=True)
class ImageRef:
    id: str
    ext: str = "jpg"


def is_recording_id(value: str) -> bool:
    return isinstance(value, str) and _RECORDING.fullmatch(value) is not None


def is_image_id(value: str) -> bool:
    return isinstance(value, str) and _IMAGE.fullmatch(value) is not None


def _last_segment(url: object) -> str:
    if not isinstance(url, str) or len(url) > 2000:
        return ""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return ""
    return path.rsplit("/", 1)[-1]


def recording_id_from_callback(wav: object, callid: object = None) -> str | None:
    """The recording id from a callback's ``wav`` URL (``…/recordings/<id>.wav``), else
    ``<callid>-r0`` (46elks' id for a call's first recording), else None."""
    stem = _last_segment(wav).removesuffix(".wav")
    if is_recording_id(stem):
        return stem
    if isinstance(callid, str) and _CALL.fullmatch(callid):
        return f"{callid}-r0"
    return None


def image_ref_from_callback(url: object) -> ImageRef | None:
    """The image id and file type from an inbound MMS's ``image`` URL (``…/images/<id>.png``),
    or None when the URL does not end in a plain id (then ask ``GET /mms/{id}``)."""
    segment = _last_segment(url)
    stem, dot, ext = segment.rpartition(".")
    if not dot:
        stem, ext = segment, "jpg"
    ext = ext.lower()
    if ext not in IMAGE_EXTENSIONS or not is_image_id(stem):
        return None
    return ImageRef(id=stem, ext=ext)

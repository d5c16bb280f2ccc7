"""MMS images sent by tenants: decoded from a data: URI (the APIs) and attached to the queued
messages (the compose page and the APIs), one place for the rules both follow: what the bytes
are decides the type, and a retried request attaches nothing twice."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from messaging.forms import sniff_image
from messaging.models import Message, MessageImage


@dataclass(frozen=True)
class ImageBytes:
    data: bytes
    content_type: str
    ext: str


class ImageRefused(Exception):
    """Why a data: URI is not an image we send: `reason` is one of REASONS, so each API
    words it in its own style."""

    REASONS = ("not_base64_uri", "bad_base64", "too_large", "not_an_image")

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def data_uri_image(value: str) -> ImageBytes:
    """The JPEG, PNG or GIF in a base64 data: URI, at most MMS_MAX_BYTES."""
    head, sep, payload = value.partition(",")
    if not head.startswith("data:") or not sep or not head.endswith(";base64"):
        raise ImageRefused("not_base64_uri")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRefused("bad_base64") from None
    if len(data) > settings.MMS_MAX_BYTES:
        raise ImageRefused("too_large")
    found = sniff_image(data[:16])
    if found is None:
        raise ImageRefused("not_an_image")
    return ImageBytes(data, *found)


def images_attach(*, queued: list[Message], image: ImageBytes | None, source_url: str = "") -> None:
    """Attach the image (or, with `source_url` alone, a URL 46elks fetches) to each queued
    message that has none yet: a double submit or a retried request attached it already."""
    have = set(MessageImage.objects.filter(message__in=queued).values_list("message_id", flat=True))
    for message in queued:
        if message.pk in have:
            continue
        stored = MessageImage(tenant_id=message.tenant_id, message=message, source_url=source_url)
        if image is not None:
            stored.content_type, stored.size = image.content_type, len(image.data)
            stored.file.save(f"{uuid.uuid4().hex}.{image.ext}", ContentFile(image.data), save=False)
        stored.save()

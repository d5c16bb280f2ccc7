"""Fixtures for the Calls pages: Acme's number, calls and recordings made via the models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scope

from calls.models import Call, Recording
from numbers.models import PhoneNumber
from tests.conftest import World

# A valid 16-bit mono 8 kHz WAV with 40 bytes of silence (84 bytes in all).
WAV = (
    b"RIFF\x4c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00"
    b"\x80\x3e\x00\x00\x02\x00\x10\x00data\x28\x00\x00\x00" + b"\x00" * 40
)
OURS = "+46766861475"
OTHER = "+46700000001"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def acme(world: World) -> Iterator[Any]:
    """The test body runs inside Acme's scope (as a tenant request would)."""
    with scope(tenant=world.tenant_a.pk):
        yield world.tenant_a


@pytest.fixture
def number(acme) -> PhoneNumber:
    return PhoneNumber.objects.create(
        tenant=acme,
        provider_id="n1",
        number=OURS,
        country="se",
        has_sms=True,
        has_voice=True,
        status="active",
    )


def make_call(number: PhoneNumber, **fields: Any) -> Call:
    defaults: dict[str, Any] = {
        "tenant": number.tenant,
        "direction": Call.Direction.IN,
        "state": Call.State.SUCCESS,
        "number": number,
        "ours": number.number,
        "other": OTHER,
        "duration": 75,
        "cost": 12_500,
        "price": 15_000,
    }
    defaults.update(fields)
    return Call.objects.create(**defaults)


def make_recording(call: Call, *, kind: str = Recording.Kind.VOICEMAIL, **fields: Any) -> Recording:
    n = Recording.objects.count()
    recording = Recording.objects.create(
        tenant=call.tenant,
        call=call,
        callid=call.elks_id or f"c{call.pk}",
        elks_id=f"{call.elks_id or call.pk}-r{n}",
        kind=kind,
        duration=fields.pop("duration", 9),
        created=fields.pop("created", timezone.now() - timedelta(seconds=1)),
        **fields,
    )
    return recording


def attach_wav(recording: Recording) -> Recording:
    recording.file.save("x.wav", ContentFile(WAV))
    recording.size = len(WAV)
    recording.downloaded = timezone.now()
    recording.save()
    return recording

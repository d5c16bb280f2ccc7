"""Greetings (upload checks, public URL, delete) and call settings, with roles."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from calls.forms import GREETING_MAX_BYTES
from calls.models import CallSettings, Greeting
from calls.routing import greeting_url
from calls.services import settings_for
from tests.calls.conftest import WAV
from tests.conftest import World, client_for

BASE = "/t/acme/calls/"
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 50
MP3_SYNC = b"\xff\xfb\x90\x64" + b"\x00" * 50
OGG = b"OggS\x00\x02" + b"\x00" * 50


def _upload(client: Client, name: str, content: bytes, filename: str = "hello.bin"):
    return client.post(
        f"{BASE}greetings/",
        {"name": name, "file": SimpleUploadedFile(filename, content, "application/octet-stream")},
    )


def test_owner_uploads_wav_mp3_ogg_by_their_magic_bytes(world: World, acme, media) -> None:
    client = client_for(world.owner_a)
    for name, content, content_type in [
        ("Wav", WAV, "audio/wav"),
        ("Id3", MP3_ID3, "audio/mpeg"),
        ("Frame", MP3_SYNC, "audio/mpeg"),
        ("Ogg", OGG, "audio/ogg"),
    ]:
        response = _upload(client, name, content, filename="whatever.txt")
        assert response.status_code == 302, response.content.decode()[:2000]
        greeting = Greeting.objects.get(name=name)
        assert greeting.content_type == content_type and greeting.size == len(content)
        assert greeting.tenant_id == world.tenant_a.pk
    html = client.get(f"{BASE}greetings/").content.decode()
    for g in Greeting.objects.all():
        assert f'<audio controls preload="none" src="/media/greetings/{g.public_token}/">' in html


def test_upload_refuses_other_types_and_big_files(world: World, acme, media) -> None:
    client = client_for(world.owner_a)
    refused = _upload(client, "Text", b"just some text, not audio", filename="greeting.wav")
    assert refused.status_code == 400
    assert "Upload a WAV, MP3 or OGG audio file." in refused.content.decode()
    riff_not_wave = b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 20
    assert _upload(client, "Avi", riff_not_wave).status_code == 400
    big = WAV + b"\x00" * (GREETING_MAX_BYTES + 1 - len(WAV))
    response = _upload(client, "Big", big)
    assert response.status_code == 400 and "larger than 2 MB" in response.content.decode()
    exactly = WAV + b"\x00" * (GREETING_MAX_BYTES - len(WAV))
    assert _upload(client, "Exactly 2 MB", exactly).status_code == 302
    assert list(Greeting.objects.values_list("name", flat=True)) == ["Exactly 2 MB"]


def test_public_greeting_url_serves_only_that_greeting(world: World, acme, media) -> None:
    client = client_for(world.owner_a)
    _upload(client, "One", WAV)
    _upload(client, "Two", OGG)
    one, two = Greeting.objects.get(name="One"), Greeting.objects.get(name="Two")
    anonymous = Client()
    response = anonymous.get(f"/media/greetings/{one.public_token}/")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == WAV
    other = anonymous.get(f"/media/greetings/{two.public_token}/")
    assert other["Content-Type"] == "audio/ogg" and b"".join(other.streaming_content) == OGG
    assert anonymous.get(f"/media/greetings/{one.public_token}x/").status_code == 404
    assert anonymous.get(f"/media/greetings/{one.pk}/").status_code == 404


def test_delete_confirms_first_and_numbers_fall_back_to_the_default(
    world: World, number, media, settings
) -> None:
    settings.PUBLIC_BASE_URL = "https://switchboard.example.com"
    client = client_for(world.owner_a)
    _upload(client, "Summer", WAV)
    greeting = Greeting.objects.get()
    number.voicemail_greeting = greeting
    number.save()
    assert greeting.public_token in greeting_url(number)
    url = f"{BASE}greetings/{greeting.pk}/delete/"
    confirm = client.get(url).content.decode()
    assert "Delete the greeting “Summer”?" in confirm and "+46 76 686 14 75" in confirm
    assert Greeting.objects.exists()
    path = media / greeting.file.name
    assert path.exists()
    assert client.post(url).status_code == 302
    assert not Greeting.objects.exists() and not path.exists()
    number.refresh_from_db()
    assert number.voicemail_greeting is None
    assert greeting_url(number).endswith("/static/audio/voicemail-greeting.wav")
    assert Client().get(f"/media/greetings/{greeting.public_token}/").status_code == 404


def test_member_listens_but_cannot_upload_or_delete(world: World, acme, media) -> None:
    _upload(client_for(world.owner_a), "Owner's", WAV)
    greeting = Greeting.objects.get()
    member = client_for(world.member_a)
    page = member.get(f"{BASE}greetings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Owner&#x27;s" in html and "Upload a greeting" not in html and "Delete…" not in html
    assert _upload(member, "Mine", WAV).status_code == 403
    assert member.get(f"{BASE}greetings/{greeting.pk}/delete/").status_code == 403
    assert member.post(f"{BASE}greetings/{greeting.pk}/delete/").status_code == 403
    assert list(Greeting.objects.values_list("name", flat=True)) == ["Owner's"]


def test_another_tenants_greeting_is_404(world: World, acme, media) -> None:
    _upload(client_for(world.owner_a), "Acme's", WAV)
    greeting = Greeting.objects.get()
    bravo = client_for(world.owner_b)
    assert bravo.get(f"/t/bravo/calls/greetings/{greeting.pk}/delete/").status_code == 404
    assert bravo.post(f"/t/bravo/calls/greetings/{greeting.pk}/delete/").status_code == 404
    assert Greeting.objects.exists()


def test_settings_owner_changes_retention_member_reads(world: World, acme) -> None:
    owner, member = client_for(world.owner_a), client_for(world.member_a)
    url = f"{BASE}settings/"
    assert 'value="90"' in member.get(url).content.decode()
    assert member.post(url, {"recording_retention_days": "7"}).status_code == 403
    assert owner.post(url, {"recording_retention_days": "0"}).status_code == 400
    assert owner.post(url, {"recording_retention_days": "30"}).status_code == 302
    assert settings_for(world.tenant_a).recording_retention_days == 30
    assert CallSettings.objects.count() == 1
    assert "Call settings saved." in owner.get(url).content.decode()

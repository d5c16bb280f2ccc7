"""A call's page, its recordings' audio (ranges), and the voicemail list."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from calls.models import Recording
from tests.calls.conftest import WAV, attach_wav, make_call, make_recording
from tests.conftest import World, client_for

BASE = "/t/acme/calls/"


def test_call_page_shows_parties_legs_actions_and_recordings(world: World, number, media) -> None:
    call = make_call(
        number,
        elks_id="c1",
        start=timezone.now(),
        legs=[{"from": "+46700000001", "to": "+46701111111", "state": "busy", "duration": 0}],
        actions=[
            {"connect": "+46701111111", "result": "busy"},
            {"play": "https://example.com/greeting.wav", "result": "success"},
            {"record": "https://example.com/vm/", "timelimit": 120},
        ],
    )
    heard_later = attach_wav(make_recording(call))
    pending = make_recording(call, kind=Recording.Kind.CALL, attempts=2, last_error="HTTP 503")
    gone = make_recording(call, kind=Recording.Kind.CALL, audio_deleted=timezone.now())

    html = client_for(world.member_a).get(f"{BASE}{call.pk}/").content.decode()
    assert "Call from +46 70 000 00 01" in html
    # The tenant's price, never 46elks' cost.
    assert "1:15" in html and "1.50 SEK" in html and "1.25 SEK" not in html
    audio = f"/t/acme/calls/recordings/{heard_later.pk}/audio/"
    assert f'<audio controls preload="none" src="{audio}"></audio>' in html
    assert f'href="{audio}" download=' in html
    assert "Not downloaded from 46elks yet (2 attempts)" in html and "HTTP 503" in html
    assert "deleted on" in html and "retention" in html
    # Legs as a table; the actions as sentences, with no URL or raw key for the tenant.
    assert "<th>From</th><th>To</th><th>Result</th><th>Duration</th>" in html
    assert "<td>+46 70 000 00 01</td><td>+46 70 111 11 11</td><td>Busy</td><td>0:00</td>" in html
    assert "<li>Rang +46 70 111 11 11: busy.</li>" in html
    assert "<li>Played a recorded message.</li>" in html
    assert f"<li>Recorded a voicemail ({heard_later.duration} s).</li>" in html
    assert "example.com" not in html and "timelimit" not in html and "Raw actions" not in html
    # A call-back button to the other party from our number.
    assert f"/t/acme/calls/dial/?number={number.pk}&amp;to=%2B46700000001" in html
    # Opening the page marks its voicemail heard (only voicemail).
    heard_later.refresh_from_db()
    pending.refresh_from_db()
    assert heard_later.heard is not None and pending.heard is None and gone.heard is None


def test_call_page_of_another_tenant_is_404(world: World, number) -> None:
    call = make_call(number)
    assert client_for(world.owner_b).get(f"/t/bravo/calls/{call.pk}/").status_code == 404
    assert client_for(world.owner_a).post(f"{BASE}{call.pk}/").status_code == 405


def test_recording_audio_whole_and_ranges(world: World, number, media) -> None:
    recording = attach_wav(make_recording(make_call(number)))
    url = f"{BASE}recordings/{recording.pk}/audio/"
    client = client_for(world.member_a)

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/wav"
    assert b"".join(whole.streaming_content) == WAV
    assert whole["Accept-Ranges"] == "bytes"

    part = client.get(url, HTTP_RANGE="bytes=0-9")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 0-9/{len(WAV)}"
    assert part.content == WAV[:10]

    tail = client.get(url, HTTP_RANGE="bytes=-4")
    assert tail.status_code == 206 and tail.content == WAV[-4:]

    for bad in (f"bytes={len(WAV)}-", "bytes=9-2", "lines=0-1"):
        refused = client.get(url, HTTP_RANGE=bad)
        assert refused.status_code == 416, bad
        assert refused["Content-Range"] == f"bytes */{len(WAV)}"


def test_recording_audio_not_downloaded_or_other_tenant_is_404(world: World, number, media) -> None:
    pending = make_recording(make_call(number))
    client = client_for(world.owner_a)
    assert client.get(f"{BASE}recordings/{pending.pk}/audio/").status_code == 404
    kept = attach_wav(make_recording(make_call(number)))
    assert (
        client_for(world.owner_b).get(f"/t/bravo/calls/recordings/{kept.pk}/audio/").status_code
        == 404
    )


def test_voicemail_list_newest_first_with_unheard_marker(world: World, number, media) -> None:
    older = attach_wav(
        make_recording(make_call(number), created=timezone.now() - timedelta(hours=2))
    )
    newer = make_recording(make_call(number, other="+46700000009"))
    make_recording(make_call(number), kind=Recording.Kind.CALL)  # not voicemail
    client = client_for(world.member_a)
    html = client.get(f"{BASE}voicemail/").content.decode()
    assert re.findall(r'id="voicemail-(\d+)"', html) == [str(newer.pk), str(older.pk)]
    assert html.count(">unheard</span>") == 2
    assert "+46 70 000 00 09" in html and "Not downloaded yet" in html
    assert f"/t/acme/calls/recordings/{older.pk}/audio/" in html

    client.get(f"{BASE}{older.call_id}/")  # open the call: heard
    html = client.get(f"{BASE}voicemail/").content.decode()
    assert html.count(">unheard</span>") == 1


def test_empty_voicemail(world: World, acme) -> None:
    assert "No voicemail yet" in client_for(world.owner_a).get(f"{BASE}voicemail/").content.decode()


def test_call_now_is_disabled_with_a_reason_until_the_user_has_a_phone(
    world: World, number
) -> None:
    world.member_a.phone = ""
    world.member_a.save()
    html = client_for(world.member_a).get(f"{BASE}dial/").content.decode()
    assert re.search(
        r'<button type="submit" class="dial-submit" disabled aria-describedby="dial-why">', html
    )
    assert 'id="dial-why"' in html and "your profile" in html
    world.member_a.phone = "+46701234567"
    world.member_a.save()
    html = client_for(world.member_a).get(f"{BASE}dial/").content.decode()
    assert '<button type="submit" class="dial-submit">Call now</button>' in html


def test_a_call_that_ended_in_voicemail_after_busy_forwards_says_so(world: World, number) -> None:
    busy = {"from": "+46700000001", "to": "+46701111111", "state": "busy", "duration": 0}
    voicemail = make_call(
        number,
        elks_id="c-vm",
        state="success",
        legs=[busy, {**busy, "to": "+46702222222"}],
        actions=[
            {"connect": "+46701111111", "result": "busy"},
            {"connect": "+46702222222", "result": "busy"},
            {"record": "https://example.com/vm/", "timelimit": 120},
        ],
    )
    answered = make_call(
        number,
        elks_id="c-ok",
        state="success",
        actions=[{"connect": "+46701111111", "result": "success"}],
    )
    assert (voicemail.outcome, answered.outcome) == ("Voicemail", "Answered")
    log = client_for(world.member_a).get(BASE).content.decode()
    assert ">Voicemail</span>" in log and ">Answered</span>" in log
    page = client_for(world.member_a).get(f"{BASE}{voicemail.pk}/").content.decode()
    assert "<dt>State</dt><dd>Voicemail</dd>" in page

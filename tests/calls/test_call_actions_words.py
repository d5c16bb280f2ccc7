"""The call page tells what happened in sentences; the raw actions, masked, are for staff."""

from __future__ import annotations

from calls.models import Greeting, Recording
from calls.selectors import action_sentences
from tests.calls.conftest import make_call, make_recording
from tests.conftest import World, client_for

TOKEN = "SeCrEt-tok_en-123"
HOOK = f"https://sb.example/hooks/elks/{TOKEN}"


def test_each_action_as_a_sentence(world: World, number) -> None:
    greeting = Greeting.objects.create(
        tenant=world.tenant_a, name="Closed", content_type="audio/wav", file="g.wav"
    )
    actions = [
        {"connect": "+46701111111", "result": "busy", "recordcall": f"{HOOK}/recording/"},
        {"connect": "+46702222222", "result": "failed"},
        {"connect": "+46703333333", "result": "success"},
        {"play": f"https://sb.example/media/greetings/{greeting.public_token}/", "result": "x"},
        {"play": "https://sb.example/static/audio/voicemail-greeting.wav"},
        {"record": f"{HOOK}/voicemail/", "result": "success"},
        {"ivr": "https://sb.example/menu.wav", "result": "1"},
        {"hangup": "busy"},
        {"hangup": "reject"},
        {"sendsms": "x"},
        "junk",
    ]
    call = make_call(number, actions=actions)
    voicemail = make_recording(call, kind=Recording.Kind.VOICEMAIL, duration=12)
    assert action_sentences(actions, [voicemail]) == [
        "Rang +46 70 111 11 11: busy.",
        "Rang +46 70 222 22 22: nobody answered.",
        "Connected to +46 70 333 33 33.",
        "Played your voicemail greeting “Closed”.",
        "Played the built-in voicemail greeting.",
        "Recorded a voicemail (12 s).",
        "Asked the caller to press a key: they pressed 1.",
        "Hung up with a busy tone.",
        "Hung up.",
        "A step this dashboard does not describe (see the raw actions).",
        "A step 46elks reported without details.",
    ]
    assert action_sentences([{"record": "x"}], []) == ["Recorded a voicemail."]


def test_tenant_sees_sentences_staff_also_the_masked_raw_actions(world: World, number) -> None:
    call = make_call(
        number,
        actions=[
            {"connect": "+46701111111", "result": "success", "recordcall": f"{HOOK}/recording/"},
        ],
    )
    url = f"/t/acme/calls/{call.pk}/"
    for user in (world.owner_a, world.member_a):
        html = client_for(user).get(url).content.decode()
        assert "<li>Connected to +46 70 111 11 11.</li>" in html
        assert TOKEN not in html and "/hooks/elks/" not in html
        assert "recordcall" not in html and "Raw actions" not in html
    staff = client_for(world.staff).get(url).content.decode()
    raw = staff[staff.index('<details class="technical" id="raw-actions">') :]
    assert "Raw actions" in raw and "&quot;recordcall&quot;" in raw
    assert "/hooks/elks/…/recording/" in raw and TOKEN not in staff


def test_call_without_reported_actions(world: World, number) -> None:
    call = make_call(number, actions=[])
    html = client_for(world.member_a).get(f"/t/acme/calls/{call.pk}/").content.decode()
    assert "46elks has not reported the steps of this call" in html

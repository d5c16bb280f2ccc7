"""The number page explains routing in words, read from the very action 46elks gets; history
in sentences; rotating callback URLs explained and confirmed first."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from accounts.models import Membership
from calls.models import Greeting
from calls.routing import VoiceStep, action_steps, voice_action, voice_steps
from numbers.history import event_sentence, readable_code
from numbers.models import NumberEvent, PhoneNumber
from numbers.routing import SmsStep, sms_steps
from numbers.services import number_route
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _number(world: World, **fields: object) -> PhoneNumber:
    defaults: dict[str, object] = {
        "tenant": world.tenant_a,
        "number": "+46766861475",
        "country": "se",
        "has_sms": True,
        "has_voice": True,
        "status": "active",
    }
    with scope(tenant=world.tenant_a.pk):
        return PhoneNumber.objects.create(**{**defaults, **fields})


def test_voice_steps_follow_the_action(world: World) -> None:
    number = _number(
        world,
        voice_forwards=[
            {"to": "+46701234567", "timeout": 20},
            {"to": "+46731234567", "timeout": 15},
        ],
        voicemail_enabled=True,
        record_calls=True,
    )
    steps = voice_steps(number)
    assert steps == [
        VoiceStep(kind="ring", to="+46701234567", seconds=20, recorded=True),
        VoiceStep(
            kind="ring", after="busy_or_no_answer", to="+46731234567", seconds=15, recorded=True
        ),
        VoiceStep(kind="voicemail", after="busy_or_no_answer", record_limit=120),
    ]
    # Walked from the action itself: change the action, the words change with it.
    assert action_steps(voice_action(number), number) == steps


def test_voice_steps_name_the_greeting_and_the_empty_plan(world: World) -> None:
    with scope(tenant=world.tenant_a.pk):
        greeting = Greeting.objects.create(
            tenant=world.tenant_a, name="Closed", content_type="audio/wav"
        )
        greeting.file.save("closed.wav", ContentFile(b"RIFF"), save=True)
    number = _number(world, voicemail_enabled=True, voicemail_greeting=greeting)
    assert voice_steps(number) == [VoiceStep(kind="voicemail", greeting="Closed", record_limit=120)]
    assert voice_steps(_number(world, number="+46766861476")) == [VoiceStep(kind="hangup")]
    released = _number(world, number="+46766861477", status="quarantined", voicemail_enabled=True)
    assert voice_steps(released) == [VoiceStep(kind="hangup")]


def test_sms_steps(world: World) -> None:
    number = _number(
        world,
        sms_forward_to="+46701234567",
        sms_webhook_url="https://example.com/in",
        sms_autoreply_enabled=True,
        sms_autoreply_text=" We are closed ",
    )
    assert sms_steps(number) == [
        SmsStep("inbox"),
        SmsStep("forward", "+46701234567"),
        SmsStep("webhook", "https://example.com/in"),
        SmsStep("autoreply", "We are closed"),
    ]
    # An empty auto-reply text sends nothing (messaging.inbound): not shown either.
    number.sms_autoreply_text = ""
    assert [s.kind for s in sms_steps(number)] == ["inbox", "forward", "webhook"]
    assert sms_steps(_number(world, number="+46766861478", has_sms=False)) == []


def test_number_page_in_words_for_every_role(world: World) -> None:
    with scope(tenant=world.tenant_a.pk):
        greeting = Greeting.objects.create(
            tenant=world.tenant_a, name="Closed", content_type="audio/wav", file="g.wav"
        )
    number = _number(
        world,
        voice_forwards=[{"to": "+46701234567", "timeout": 20}],
        voicemail_enabled=True,
        voicemail_greeting=greeting,
        sms_forward_to="+46731234567",
        sms_autoreply_enabled=True,
        sms_autoreply_text="Back at 8",
    )
    url = reverse("numbers:detail", args=("acme", number.pk))
    for user in (world.owner_a, world.member_a):
        html = client_for(user).get(url).content.decode()
        assert "Ring <strong>+46 70 123 45 67</strong> for 20 s" in html
        assert '<small class="flow-when">If busy or nobody answers</small>' in html
        assert (
            "Voicemail: play your greeting “Closed”, then record a message of up to 2 min" in html
        )
        assert "Forwarded as an SMS to <strong>+46 73 123 45 67</strong>" in html
        assert "Answered with the automatic reply “Back at 8”" in html
        assert number.hook_token not in html and "/hooks/elks/" not in html
        assert "voice_start" not in html and "Technical details" not in html
        assert "public_token" not in html and greeting.public_token not in html


def test_number_without_forwards_says_so(world: World) -> None:
    number = _number(world)
    html = client_for(world.owner_a).get(reverse("numbers:detail", args=("acme", number.pk)))
    text = html.content.decode()
    assert "Nobody is set up to take calls: callers hear a busy tone" in text
    assert "Kept in your inbox" in text


def test_history_in_sentences(world: World) -> None:
    number = _number(world, voice_forwards=[{"to": "+46701234567", "timeout": 20}])
    world.owner_a.full_name = "Anna Berg"
    world.owner_a.save()
    with scope(tenant=world.tenant_a.pk):
        number_route(
            number=number,
            actor=world.owner_a,
            voicemail_enabled=True,
            sms_forward_to="+46731234567",
        )
        NumberEvent.objects.create(
            tenant=world.tenant_a, number=number, action="token_rotated", detail={"old_kept": False}
        )
        NumberEvent.objects.create(tenant=world.tenant_a, number=number, action="moved.to_moon")
    html = client_for(world.owner_a).get(reverse("numbers:detail", args=("acme", number.pk)))
    text = html.content.decode()
    assert (
        "Anna Berg changed the routing: calls ring +46 70 123 45 67, then go to voicemail; "
        "SMS forwarded to +46 73 123 45 67." in text
    )
    assert "The callback URLs were rotated: the old ones stopped at once." in text
    assert "The system: moved to moon." in text
    for code in ("routing_changed", "token_rotated", "moved.to_moon"):
        assert code not in text


@pytest.mark.parametrize(
    ("action", "detail", "sentence"),
    [
        ("rented", {}, "Anna rented the number."),
        ("rented", {"source": "sync"}, "46elks confirmed the rental."),
        ("quarantined", {"days": 7}, "Anna released the number: it could be restored for 7 days."),
        ("restored", {}, "Anna restored the number."),
        ("routing_reapplied", {}, "Anna set our routing at 46elks again (it had been changed "
         "there)."),
        ("token_rotated", {"old_kept": True}, "Anna rotated the callback URLs: the old ones "
         "worked a few more hours."),
        ("released_at_provider", {"reason": "inactive at 46elks"}, "The number was released at "
         "the provider (inactive at 46elks)."),
        ("routing_changed", {"forwards": []}, "Anna changed the routing: calls are not "
         "forwarded; SMS kept in the inbox only."),
    ],
)  # fmt: skip
def test_event_sentences(world: World, action: str, detail: dict, sentence: str) -> None:
    number = _number(world)
    world.owner_a.full_name = "Anna"
    with scope(tenant=world.tenant_a.pk):
        event = NumberEvent(number=number, action=action, actor=world.owner_a, detail=detail)
    # Released-at-provider and sync events have no actor: they still read as sentences.
    if action == "released_at_provider" or detail.get("source"):
        event.actor = None
    assert event_sentence(event) == sentence
    assert readable_code("") == "something changed"


def test_rotate_asks_first_and_explains(world: World, live_tenant, rented_number) -> None:
    owner = live_tenant.memberships.get(role=Membership.Role.OWNER).user
    url = reverse("numbers:rotate", args=(live_tenant.slug, rented_number.pk))
    client = client_for(owner)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "the addresses get new secret parts, registered at 46elks right away" in html
    assert "The old addresses stop working." in html and "When to use it:" in html
    old = rented_number.hook_token
    with scopes_disabled():
        assert PhoneNumber.objects.get(pk=rented_number.pk).hook_token == old  # GET changes nothing
    response = client.post(url, {"revoke_old": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        number = PhoneNumber.objects.get(pk=rented_number.pk)
    assert number.hook_token != old and number.previous_hook_token is None
    # Unticked: a routine rotation, the old token kept for the overlap.
    client.post(url, {})
    with scopes_disabled():
        again = PhoneNumber.objects.get(pk=rented_number.pk)
    assert again.previous_hook_token == number.hook_token


def test_rotate_is_for_owners_and_the_tenant_only(world: World) -> None:
    number = _number(world)
    url = reverse("numbers:rotate", args=("acme", number.pk))
    assert client_for(world.member_a).get(url).status_code == 403
    assert client_for(world.owner_b).get(url).status_code == 404
    assert client_for(world.owner_b).post(url, {"revoke_old": "on"}).status_code == 404
    page = client_for(world.owner_a).get(reverse("numbers:detail", args=("acme", number.pk)))
    assert "If you think those addresses leaked" in page.content.decode()
    member_page = client_for(world.member_a).get(
        reverse("numbers:detail", args=("acme", number.pk))
    )
    assert "Rotate callback URLs" not in member_page.content.decode()

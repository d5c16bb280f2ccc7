"""What the tenant sends without a person pressing Send: forwards, automatic replies, the STOP
confirmation and campaigns. Each lands in the right conversation (or none) and none reaches a
number that opted out (issue 11, items 4 and 7)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django_scopes import scope, scopes_disabled

from messaging.campaigns.models import CampaignRecipient
from messaging.campaigns.services import campaign_launch, campaign_run
from messaging.contacts.models import Contact
from messaging.models import Conversation, Message, MessagingSettings, OptOut
from messaging.services import (
    SendError,
    conversation_touch,
    message_send,
    optout_blocked,
    optout_record,
    sms_queue,
)
from numbers.models import PhoneNumber
from numbers.services import number_route
from providers.models import WebhookEvent
from providers.services import webhooks_drain
from tests.conftest import client_for
from tests.messaging.campaigns.test_engine import _campaign, _contacts, _sends

CUSTOMER = "+46700000001"
OWNER_PHONE = "+46709999999"


@pytest.fixture
def number(rented_number):
    return rented_number


def _post_sms(number: PhoneNumber, sms_id: str, message: str = "Hej!", sender: str = CUSTOMER):
    payload = {
        "id": sms_id,
        "from": sender,
        "to": number.number,
        "message": message,
        "direction": "incoming",
        "created": "2026-11-25T10:00:00",
    }
    return Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload)


def _drain() -> None:
    with scopes_disabled():
        webhooks_drain()


def _outbound(**filters) -> list[Message]:
    with scopes_disabled():
        return list(Message.objects.filter(direction="out", **filters).order_by("id"))


def _sent_to(elks) -> list[tuple[str, str]]:
    """(to, message) of every SMS the sandbox accepted."""
    return [
        (r["params"]["to"], r["params"]["message"])
        for r in elks.api_requests(method="POST", path="/a1/sms")
    ]


def _send_all() -> None:
    for message in _outbound(status="queued"):
        message_send(message_id=message.pk)


def _route(number, world, **routing) -> None:
    with scope(tenant=number.tenant_id):
        number_route(number=number, actor=world.owner_a, **routing)


# --- item 4: forwarded copies belong to the customer's conversation ---------------------------


def test_a_forwarded_copy_is_filed_in_the_customers_thread_and_starts_none(
    number, live_tenant, world, elks
) -> None:
    _route(number, world, sms_forward_to=OWNER_PHONE)
    _post_sms(number, "s1", "Is the car free tonight?")
    _drain()
    [forward] = _outbound(source="forward")
    _send_all()
    assert _sent_to(elks) == [(OWNER_PHONE, f"From {CUSTOMER}: Is the car free tonight?")]
    conversation = Conversation.objects.get()  # only the customer's: no "You: From +46…"
    assert (conversation.other, conversation.last_direction) == (CUSTOMER, "in")
    assert conversation.last_preview == "Is the car free tonight?"
    forward.refresh_from_db()
    assert forward.conversation_id == conversation.pk

    client = client_for(live_tenant.memberships.get().user)
    inbox = client.get(f"/t/{live_tenant.slug}/messages/").content.decode()
    assert "From +46" not in inbox and "You:" not in inbox
    page = client.get(f"/t/{live_tenant.slug}/messages/c/{conversation.pk}/").content.decode()
    assert "Forwarded to" in page and "+46 70 999 99 99" in page
    # The reply form answers the customer, never the forwarding phone.
    assert re.search(r'name="recipients" value="([^"]+)"', page).group(1) == CUSTOMER

    # Replying from the thread reaches the customer.
    response = client.post(
        f"/t/{live_tenant.slug}/messages/new/",
        {
            "kind": "sms",
            "sender": number.number,
            "recipients": CUSTOMER,
            "message": "Yes, at 8.",
            "delivery_report": "on",
            "request_key": str(uuid.uuid4()),
        },
    )
    assert response.url == f"/t/{live_tenant.slug}/messages/c/{conversation.pk}/"
    _send_all()
    assert _sent_to(elks)[-1] == (CUSTOMER, "Yes, at 8.")
    assert Conversation.objects.count() == 1


def test_an_auto_reply_is_sent_once_into_the_customers_thread(
    number, live_tenant, world, elks
) -> None:
    _route(number, world, sms_autoreply_enabled=True, sms_autoreply_text="Thanks, soon.")
    first = _post_sms(number, "s1")
    assert first.status_code == 200 and first.content == b""  # sent by us, not by 46elks
    _drain()
    WebhookEvent.objects.update(status="pending")  # processed again after a crash
    _drain()
    [reply] = _outbound(source="autoreply")
    assert (reply.other, reply.body, reply.status) == (CUSTOMER, "Thanks, soon.", "queued")
    _send_all()
    reply.refresh_from_db()
    assert reply.status == "created" and reply.cost == 3500  # charged, with reports
    assert _sent_to(elks) == [(CUSTOMER, "Thanks, soon.")]
    conversation = Conversation.objects.get()
    assert reply.conversation_id == conversation.pk and conversation.other == CUSTOMER
    # The inbox keeps showing what the customer wrote, unread.
    assert (conversation.last_preview, conversation.unread) == ("Hej!", 1)
    page = (
        client_for(live_tenant.memberships.get().user)
        .get(f"/t/{live_tenant.slug}/messages/c/{conversation.pk}/")
        .content.decode()
    )
    assert "automatic reply" in page


def test_existing_forward_conversations_are_folded_into_the_customers_threads(
    world,
) -> None:
    """The data migration, on rows the old code wrote."""
    from importlib import import_module

    migration = import_module("messaging.migrations.0005_stop_reply_and_forwards")
    tenant = world.tenant_a
    ours = "+46766861475"
    with scope(tenant=tenant.pk):

        def message(other: str, direction: str, body: str, **fields) -> Message:
            m = Message.objects.create(
                tenant=tenant,
                ours=ours,
                other=other,
                direction=direction,
                body=body,
                status="received" if direction == "in" else "created",
                **fields,
            )
            conversation_touch(m)  # what the old code did for every message, forwards included
            return m

        inbound = message(CUSTOMER, "in", "Hello", elks_id="s-in-1")
        forward = message(OWNER_PHONE, "out", f"From {CUSTOMER}: Hello", source="forward")
        # A forward whose text retention blanked: found by its key.
        inbound2 = message("+46700000002", "in", "", elks_id="s-in-2", body_blanked=True)
        blanked = message(
            OWNER_PHONE,
            "out",
            "",
            source="forward",
            request_key=uuid.uuid5(uuid.NAMESPACE_URL, "forward:s-in-2"),
        )
        # The owner's phone also wrote to the number itself: that thread stays, without forwards.
        own = message("+46709999998", "in", "I am the owner")
        forward_to_own = message("+46709999998", "out", f"From {CUSTOMER}: Hello", source="forward")
        assert Conversation.objects.count() == 4

    # As `migrate` runs it: the models of that migration's state, outside any tenant scope.
    loader = MigrationExecutor(connection).loader
    state = loader.project_state(("messaging", "0005_stop_reply_and_forwards"))
    migration.forwards_into_threads(state.apps, None)

    with scope(tenant=tenant.pk):
        others = set(Conversation.objects.values_list("other", flat=True))
        assert others == {CUSTOMER, "+46700000002", "+46709999998"}
        for copy, original in ((forward, inbound), (blanked, inbound2)):
            copy.refresh_from_db()
            original.refresh_from_db()
            assert copy.conversation_id == original.conversation_id
        forward_to_own.refresh_from_db()
        assert forward_to_own.conversation_id == inbound.conversation_id
        kept = Conversation.objects.get(other="+46709999998")
        assert (kept.last_preview, kept.last_direction) == ("I am the owner", "in")
        assert list(kept.messages.all()) == [own]


# --- item 7: nothing reaches a number that opted out --------------------------------------------


def test_a_stop_gets_no_auto_reply_and_nothing_after(number, live_tenant, world, elks) -> None:
    _route(
        number,
        world,
        sms_forward_to=OWNER_PHONE,
        sms_autoreply_enabled=True,
        sms_autoreply_text="Thanks, soon.",
    )
    _post_sms(number, "s1", "STOPP")
    _post_sms(number, "s2", "Hello?")  # already opted out
    _drain()
    _send_all()
    assert OptOut.objects.get().kind == "out"
    assert _outbound(source="autoreply") == []
    # Forwarding goes to the tenant's own phone: allowed.
    assert [to for to, _ in _sent_to(elks)] == [OWNER_PHONE, OWNER_PHONE]


def test_a_stop_gets_the_one_confirmation_the_tenant_configures(
    number, live_tenant, world, elks
) -> None:
    MessagingSettings.objects.update_or_create(
        tenant=live_tenant, defaults={"stop_reply": "You will get no more messages from us."}
    )
    _route(number, world, sms_autoreply_enabled=True, sms_autoreply_text="Thanks, soon.")
    _post_sms(number, "s1", "Stop")
    _drain()
    WebhookEvent.objects.update(status="pending")
    _drain()  # reprocessed: still one confirmation
    _post_sms(number, "s2", "STOP")  # a repeated STOP
    _post_sms(number, "s3", "Are you there?")
    _drain()
    _send_all()
    assert _sent_to(elks) == [(CUSTOMER, "You will get no more messages from us.")]
    [confirmation] = _outbound()
    assert confirmation.conversation.other == CUSTOMER and confirmation.status == "created"
    # After START the automatic reply is back.
    _post_sms(number, "s4", "START")
    _drain()
    _send_all()
    assert _sent_to(elks)[-1] == (CUSTOMER, "Thanks, soon.")


def test_the_confirmation_does_not_need_an_auto_reply(number, live_tenant, world, elks) -> None:
    MessagingSettings.objects.update_or_create(tenant=live_tenant, defaults={"stop_reply": "Bye."})
    _post_sms(number, "s1", "avsluta")
    _drain()
    _send_all()
    assert _sent_to(elks) == [(CUSTOMER, "Bye.")]


def test_no_confirmation_when_none_is_configured(number, live_tenant, world, elks) -> None:
    _post_sms(number, "s1", "STOP")
    _drain()
    assert _outbound() == [] and _sent_to(elks) == []


def test_the_settings_page_sets_the_stop_confirmation(world) -> None:
    client = client_for(world.owner_a)
    page = client.get("/t/acme/messages/settings/").content.decode()
    assert "Reply to a stop word with" in page
    response = client.post(
        "/t/acme/messages/settings/",
        {
            "default_country": "SE",
            "stop_words": "STOP,STOPP",
            "start_words": "START",
            "stop_reply": "Unsubscribed.",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert MessagingSettings.objects.get(tenant=world.tenant_a).stop_reply == "Unsubscribed."


def test_an_opted_out_number_is_refused_by_every_sender_but_a_forward(world) -> None:
    tenant = world.tenant_a
    with scope(tenant=tenant.pk):
        optout_record(tenant=tenant, phone=CUSTOMER, kind="out", word="STOP")
        for source in ("dashboard", "autoreply", "campaign"):
            assert optout_blocked(tenant=tenant, phones=[CUSTOMER], source=source) == {CUSTOMER}
        assert optout_blocked(tenant=tenant, phones=[CUSTOMER], source="forward") == set()
        # An old opt-out cannot be used to pass a confirmation once the number opted in again.
        old = OptOut.objects.get()
        optout_record(tenant=tenant, phone=CUSTOMER, kind="in", word="START")
        optout_record(tenant=tenant, phone=CUSTOMER, kind="out", word="STOP")
        assert optout_blocked(
            tenant=tenant, phones=[CUSTOMER], source="autoreply", confirming=old
        ) == {CUSTOMER}


def test_a_reply_to_an_opted_out_number_is_refused_with_a_clear_message(
    number, live_tenant, world, elks
) -> None:
    optout_record(tenant=live_tenant, phone=CUSTOMER, kind="out", word="STOP")
    response = client_for(live_tenant.memberships.get().user).post(
        f"/t/{live_tenant.slug}/messages/new/",
        {
            "kind": "sms",
            "sender": number.number,
            "recipients": CUSTOMER,
            "message": "Please come back",
            "request_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 400
    assert f"opted out and cannot be messaged: {CUSTOMER}" in response.content.decode()
    assert _outbound() == [] and _sent_to(elks) == []


def test_a_stop_that_arrives_while_a_message_waits_stops_it(
    number, live_tenant, world, elks
) -> None:
    [queued] = sms_queue(
        tenant=live_tenant,
        sender=number.number,
        recipients=[CUSTOMER],
        body="Offer!",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
    _post_sms(number, "s1", "STOP")
    _drain()
    message_send(message_id=queued.pk)
    queued.refresh_from_db()
    assert queued.status == "failed" and "opted out" in queued.error
    assert _sent_to(elks) == []
    with pytest.raises(SendError, match="opted out"):
        sms_queue(
            tenant=live_tenant,
            sender=number.number,
            recipients=[CUSTOMER],
            body="Offer!",
            request_key=uuid.uuid4(),
            actor=world.owner_a,
        )


def test_a_campaign_sends_nothing_to_opted_out_numbers(live_tenant, number, elks, settings) -> None:
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    tenant = live_tenant
    campaign = _campaign(tenant, _contacts(tenant, 4), sender=number.number)
    optout_record(tenant=tenant, phone="+46700000001", kind="out", word="STOP")
    # Opted out before launch, but the contact's mirror flag was lost: the ledger still rules.
    optout_record(tenant=tenant, phone="+46700000002", kind="out", word="STOP")
    Contact.objects.filter(phone="+46700000002").update(opted_out=False)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    sends = _sends(elks)
    assert set(sends) == {"+46700000000", "+46700000003"}
    assert not CampaignRecipient.objects.filter(phone="+46700000001").exists()
    skipped = CampaignRecipient.objects.get(phone="+46700000002")
    assert (skipped.status, skipped.error) == ("skipped", "Opted out")

"""The Messages pages: inbox, threads, compose, log, opt-outs and settings, as users see them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import Conversation, Message, MessageImage, MessagingSettings, OptOut
from messaging.services import conversation_touch, delivery_report_apply, optout_record
from numbers.models import PhoneNumber
from tests.conftest import World, client_for
from tests.factories import approved_sender

OURS = "+46766861475"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _number(tenant, number: str = OURS, **fields) -> PhoneNumber:
    values = {
        "provider_id": f"n-{number}",
        "country": "se",
        "has_sms": True,
        "has_mms": True,
        "has_voice": True,
        "status": "active",
        **fields,
    }
    with scopes_disabled():
        return PhoneNumber.objects.create(tenant=tenant, number=number, **values)


def _message(tenant, *, other: str = "+46700000001", direction: str = "in", **fields) -> Message:
    values = {
        "kind": "sms",
        "ours": OURS,
        "body": "Hej",
        "status": "received" if direction == "in" else "created",
        **fields,
    }
    with scope(tenant=tenant.pk):
        message = Message.objects.create(tenant=tenant, direction=direction, other=other, **values)
        conversation_touch(message)
    return message


def _conversation(tenant, other: str = "+46700000001") -> Conversation:
    with scopes_disabled():
        return Conversation.objects.get(tenant=tenant, other=other)


# --- inbox ------------------------------------------------------------------------------------


def test_inbox_is_empty_at_first_and_links_to_the_other_pages(world: World) -> None:
    page = client_for(world.member_a).get("/t/acme/messages/").content.decode()
    assert "No messages yet" in page
    for path in ("new/", "log/", "opt-outs/", "settings/"):
        assert f'href="/t/acme/messages/{path}"' in page
    assert "css/messaging.css" in page


def test_inbox_lists_conversations_newest_first_with_unread_and_preview(world: World) -> None:
    _message(world.tenant_a, other="+46700000001", body="First one")
    _message(world.tenant_a, other="+46700000002", body="Second one")
    _message(world.tenant_a, other="+46700000002", body="And again")
    _message(world.tenant_a, other="+46700000003", direction="out", body="We wrote")
    _message(world.tenant_b, other="+46700000009", body="Bravo's secret")

    page = client_for(world.owner_a).get("/t/acme/messages/").content.decode()
    assert "Bravo's secret" not in page
    order = [page.index(n) for n in ("+46 70 000 00 03", "+46 70 000 00 02", "+46 70 000 00 01")]
    assert order == sorted(order)
    assert "You: We wrote" in page and "And again" in page
    assert 'aria-label="2 unread"' in page and 'aria-label="1 unread"' in page
    # The live list polls with the newest change it saw.
    assert 'hx-trigger="every 2s"' in page and "?since=" in page


def test_inbox_search_by_digits_or_by_message_text(world: World) -> None:
    _message(world.tenant_a, other="+46700000001", body="Taxi to the airport please")
    _message(world.tenant_a, other="+46700000002", body="Invoice question")
    _message(world.tenant_a, other="+46700000002", body="Thanks!")  # the preview hides the match
    client = client_for(world.owner_a)

    def shown(q: str) -> str:
        return client.get("/t/acme/messages/", {"q": q}).content.decode()

    assert "+46 70 000 00 01" in shown("airport") and "+46 70 000 00 02" not in shown("airport")
    assert "+46 70 000 00 02" in shown("INVOICE") and "+46 70 000 00 01" not in shown("invoice")
    assert "+46 70 000 00 02" in shown("070-000 00 02") or "+46 70 000 00 02" in shown("00002")
    assert "No conversation matches" in shown("nothing like this")
    # HTMX asks for the list only.
    partial = client.get("/t/acme/messages/", {"q": "airport"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="inbox-list"')


def test_inbox_and_thread_name_the_contact_beside_the_number(world: World) -> None:
    from messaging.contacts.models import Contact

    _message(world.tenant_a, other="+46700000001", body="Hej")
    _message(world.tenant_a, other="+46700000002", body="Unknown sender")
    _message(world.tenant_b, other="+46700000001", body="Bravo's")
    with scopes_disabled():
        Contact.objects.create(tenant=world.tenant_a, phone="+46700000001", name="Anna Berg")
        # Another tenant's contact for a number never names it here.
        Contact.objects.create(tenant=world.tenant_b, phone="+46700000002", name="Bravo Name")
    client = client_for(world.owner_a)
    page = client.get("/t/acme/messages/").content.decode()
    assert "<strong>Anna Berg</strong>" in page and "+46 70 000 00 01" in page
    assert "Bravo Name" not in page and "<strong>+46 70 000 00 02</strong>" in page
    # The inbox search finds a conversation by the contact's name.
    found = client.get("/t/acme/messages/", {"q": "berg"}).content.decode()
    assert "Anna Berg" in found and "+46 70 000 00 02" not in found
    thread = client.get(f"/t/acme/messages/c/{_conversation(world.tenant_a).pk}/").content.decode()
    assert "<h1>Anna Berg <small" in thread


def test_inbox_poll_answers_204_until_something_changes(world: World) -> None:
    _message(world.tenant_a, body="Earlier")
    client = client_for(world.owner_a)
    page = client.get("/t/acme/messages/").content.decode()
    poll = re.search(r'hx-get="([^"]+since=[^"]+)"', page).group(1).replace("&amp;", "&")

    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get(poll, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""
    ours = [q["sql"] for q in queries if "messaging_conversation" in q["sql"]]
    assert len(ours) == 1  # one cheap EXISTS on (tenant, updated)

    _message(world.tenant_b, other="+46700000009", body="Not ours")
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204

    _message(world.tenant_a, other="+46700000005", body="Brand new")
    changed = client.get(poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    body = changed.content.decode()
    assert "Brand new" in body and body.lstrip().startswith('<div id="inbox-list"')
    # The refreshed list carries a newer `since`: polling it again is quiet.
    again = re.search(r'hx-get="([^"]+since=[^"]+)"', body).group(1).replace("&amp;", "&")
    assert client.get(again, HTTP_HX_REQUEST="true").status_code == 204


def test_empty_inbox_polls_quietly_until_the_first_message(world: World) -> None:
    client = client_for(world.owner_a)
    page = client.get("/t/acme/messages/").content.decode()
    poll = re.search(r'hx-get="([^"]+since=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    _message(world.tenant_a, body="Hello there")
    assert "Hello there" in client.get(poll, HTTP_HX_REQUEST="true").content.decode()


def _bulk(tenant, conversations: int, per: int) -> None:
    now = timezone.now()
    with scopes_disabled():
        convs = Conversation.objects.bulk_create(
            Conversation(
                tenant=tenant,
                ours=OURS,
                other=f"+4670{i:07d}",
                last_message_at=now - timedelta(minutes=i),
                last_preview=f"preview {i}",
                last_direction="in",
                unread=i % 3,
            )
            for i in range(conversations)
        )
        Message.objects.bulk_create(
            Message(
                tenant=tenant,
                conversation=c,
                kind="sms",
                direction="in" if n % 2 else "out",
                status="received" if n % 2 else "delivered",
                ours=OURS,
                other=c.other,
                body=f"message {n} of {c.other}",
                cost=None if n % 2 else 3500,
                parts=1,
                created=now - timedelta(minutes=i, seconds=n),
                callback_token=uuid.uuid4().hex,
                sender=None,
            )
            for i, c in enumerate(convs)
            for n in range(per)
        )


def test_inbox_uses_a_fixed_number_of_queries_and_pages_by_keyset(
    world: World, django_assert_max_num_queries
) -> None:
    client = client_for(world.owner_a)
    _bulk(world.tenant_a, 1, 1)
    with CaptureQueriesContext(connection) as small:
        client.get("/t/acme/messages/")
    _bulk(world.tenant_b, 1, 1)
    with scopes_disabled():
        Conversation.objects.filter(tenant=world.tenant_a).delete()
    _bulk(world.tenant_a, 100, 3)  # 100 conversations, 300 messages

    with django_assert_max_num_queries(len(small)):
        first = client.get("/t/acme/messages/").content.decode()
    assert first.count('<li class="conversation') == 50
    cursor = re.search(r"after=([\w=-]+)", first).group(1)
    with django_assert_max_num_queries(len(small)):
        second = client.get("/t/acme/messages/", {"after": cursor}).content.decode()
    assert second.count('<li class="conversation') == 50
    assert "+46 70 000 00 49" not in second and "+46 70 000 00 50" in second
    assert 'hx-trigger="every 2s"' not in second  # older pages do not poll
    with django_assert_max_num_queries(len(small) + 1):
        client.get("/t/acme/messages/", {"q": "message 2"})


# --- threads ----------------------------------------------------------------------------------


def test_thread_shows_the_messages_in_order_and_marks_inbound_read(
    world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    number = _number(world.tenant_a)
    first = _message(world.tenant_a, body="Do you have a car at 9?", number=number)
    now = timezone.now()
    _message(
        world.tenant_a,
        direction="out",
        body="Yes, on its way",
        status="delivered",
        sent_at=now,
        delivered_at=now,
        sender=world.owner_a,
    )
    _message(
        world.tenant_a,
        direction="out",
        body="Failed one",
        status="failed",
        failed_at=now,
        error="Invalid to number",
    )
    mms = _message(world.tenant_a, kind="mms", body="Look")
    with scopes_disabled():
        image = MessageImage(tenant=world.tenant_a, message=mms, content_type="image/gif")
        image.file.save("x.gif", SimpleUploadedFile("x.gif", GIF), save=True)
    conversation = _conversation(world.tenant_a)
    assert conversation.unread == 2

    client = client_for(world.member_a)
    response = client.get(f"/t/acme/messages/c/{conversation.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Do you have a car") < page.index("Yes, on its way") < page.index("Look")
    assert "Delivered" in page and "delivered " in page and "owner@acme.example" in page
    assert "Invalid to number" in page and "Failed" in page
    assert f'src="/t/acme/messages/images/{image.pk}/"' in page
    assert client.get(f"/t/acme/messages/images/{image.pk}/").status_code == 200
    # The reply form posts to compose from our number to the other party.
    assert 'action="/t/acme/messages/new/"' in page
    assert f'name="sender" value="{OURS}"' in page
    assert 'name="recipients" value="+46700000001"' in page

    conversation.refresh_from_db()
    first.refresh_from_db()
    assert conversation.unread == 0 and first.read_at is not None


def test_thread_poll_is_204_until_a_report_or_a_message_arrives(world: World) -> None:
    sent = _message(world.tenant_a, direction="out", body="On our way", status="created")
    conversation = _conversation(world.tenant_a)
    client = client_for(world.owner_a)
    page = client.get(f"/t/acme/messages/c/{conversation.pk}/").content.decode()
    poll = re.search(r'hx-get="([^"]+since=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204

    with scope(tenant=world.tenant_a.pk):
        delivery_report_apply(message=sent, status="delivered")
    changed = client.get(poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    body = changed.content.decode()
    assert body.lstrip().startswith('<div id="thread-messages"') and "Delivered" in body
    assert "<form" not in body  # the reply being typed is left alone

    again = re.search(r'hx-get="([^"]+since=[^"]+)"', body).group(1).replace("&amp;", "&")
    assert client.get(again, HTTP_HX_REQUEST="true").status_code == 204
    _message(world.tenant_a, body="Thanks!")
    assert "Thanks!" in client.get(again, HTTP_HX_REQUEST="true").content.decode()


def test_long_thread_shows_the_newest_50_and_links_older(world: World) -> None:
    _bulk(world.tenant_a, 1, 60)
    conversation = _conversation(world.tenant_a, other="+46700000000")
    client = client_for(world.owner_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/t/acme/messages/c/{conversation.pk}/").content.decode()
    assert len(queries) < 15
    assert page.count('class="msg msg-') == 50
    assert "message 0 of" in page and "message 49 of" in page and "message 50 of" not in page
    older = re.search(r'href="\?before=([\w=-]+)"', page).group(1)
    rest = client.get(f"/t/acme/messages/c/{conversation.pk}/", {"before": older}).content
    assert rest.decode().count('class="msg msg-') == 10


def test_another_tenants_conversation_and_image_are_not_found(
    world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    mms = _message(world.tenant_b, kind="mms", other="+46700000009")
    with scopes_disabled():
        image = MessageImage(tenant=world.tenant_b, message=mms, content_type="image/gif")
        image.file.save("b.gif", SimpleUploadedFile("b.gif", GIF), save=True)
    conversation = _conversation(world.tenant_b, other="+46700000009")
    client = client_for(world.owner_a)
    assert client.get(f"/t/acme/messages/c/{conversation.pk}/").status_code == 404
    assert client.get(f"/t/acme/messages/images/{image.pk}/").status_code == 404
    assert client.post(f"/t/acme/messages/images/{image.pk}/").status_code == 404
    assert client.get(f"/t/bravo/messages/c/{conversation.pk}/").status_code == 404
    assert (
        client_for(world.owner_b).get(f"/t/bravo/messages/c/{conversation.pk}/").status_code == 200
    )


# --- compose against the sandbox --------------------------------------------------------------


@pytest.fixture
def number(rented_number):
    return rented_number


def _owner(tenant):
    return client_for(tenant.memberships.get().user)


def _form_key(client, tenant) -> str:
    page = client.get(f"/t/{tenant.slug}/messages/new/").content.decode()
    return re.search(r'name="request_key" value="([^"]+)"', page).group(1)


def test_compose_queues_and_the_send_reaches_46elks(
    live_tenant, number, elks, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = _owner(live_tenant)
    data = {
        "kind": "sms",
        "sender": number.number,
        "recipients": "070-000 00 01",
        "message": "Your taxi is outside",
        "delivery_report": "on",
        "request_key": _form_key(client, live_tenant),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/t/{live_tenant.slug}/messages/new/", data)
    message = Message.objects.get()
    assert response.status_code == 302
    assert response.url == f"/t/{live_tenant.slug}/messages/c/{message.conversation_id}/"
    assert message.other == "+46700000001" and message.ours == number.number
    assert message.status == "created" and message.elks_id and message.cost == 3500
    [sent] = elks.api_requests(method="POST", path="/a1/sms")
    assert sent["params"]["message"] == "Your taxi is outside"
    page = client.get(response.url).content.decode()
    assert "Your taxi is outside" in page and "1 message queued for sending" in page


def test_a_double_submit_sends_once(
    live_tenant, number, elks, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = _owner(live_tenant)
    data = {
        "kind": "sms",
        "sender": number.number,
        "recipients": "+46700000001",
        "message": "Once only",
        "request_key": _form_key(client, live_tenant),
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/t/{live_tenant.slug}/messages/new/", data)
        second = client.post(f"/t/{live_tenant.slug}/messages/new/", data)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert Message.objects.count() == 1
    assert len(elks.api_requests(method="POST", path="/a1/sms")) == 1


def test_several_recipients_lead_to_the_log_of_that_send(live_tenant, number, elks) -> None:
    client = _owner(live_tenant)
    key = _form_key(client, live_tenant)
    data = {
        "kind": "sms",
        "sender": number.number,
        "recipients": "+46700000001,\n+46700000002",
        "message": "Both of you",
        "request_key": key,
    }
    response = client.post(f"/t/{live_tenant.slug}/messages/new/", data)
    assert response.url == f"/t/{live_tenant.slug}/messages/log/?request={key}"
    assert Message.objects.filter(status="queued").count() == 2
    log = client.get(response.url).content.decode()
    assert log.count("Both of you") == 2 and "one send" in log


def test_dry_run_shows_46elks_estimate_and_sends_nothing(live_tenant, number, elks) -> None:
    client = _owner(live_tenant)
    data = {
        "kind": "sms",
        "sender": number.number,
        "recipients": "+46700000001, +46700000002",
        "message": "How much?",
        "request_key": _form_key(client, live_tenant),
        "action": "estimate",
    }
    response = client.post(f"/t/{live_tenant.slug}/messages/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    # 46elks checked it (dryrun); the price shown is the tenant's: 2 x 0.35 + 25%.
    assert "Estimated price" in page and "0.88 SEK" in page and "Nothing was sent" in page
    assert Message.objects.count() == 0
    [estimate] = elks.api_requests(method="POST", path="/a1/sms")
    assert estimate["params"]["dryrun"] == "yes"


def _post_compose(client, slug: str, **fields):
    data = {"kind": "sms", "request_key": str(uuid.uuid4()), **fields}
    return client.post(f"/t/{slug}/messages/new/", data)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"sender": OURS, "recipients": "12", "message": "x"}, "Not valid phone numbers: 12"),
        ({"recipients": "+46700000001", "message": "x"}, "Choose whom to send from"),
        (
            {"sender": "1Taxi", "recipients": "+46700000001", "message": "x"},
            "Send from one of your numbers or approved sender names",
        ),
        (
            {"sender": "Swedbank", "recipients": "+46700000001", "message": "x"},
            "Send from one of your numbers or approved sender names",
        ),
        ({"sender": OURS, "recipients": "+46700000001", "message": "  "}, "Write a message."),
        ({"sender": OURS, "recipients": "", "message": "x"}, "This field is required"),
    ],
)
def test_compose_errors_are_shown_and_nothing_is_queued(world: World, fields, error) -> None:
    _number(world.tenant_a)
    response = _post_compose(client_for(world.member_a), "acme", **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    with scopes_disabled():
        assert Message.objects.count() == 0


def test_an_approved_sender_name_is_accepted(world: World) -> None:
    approved_sender(world.tenant_a, "AcmeTaxi")
    response = _post_compose(
        client_for(world.member_a),
        "acme",
        sender="AcmeTaxi",
        recipients="+46700000001",
        message="From a name",
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Message.objects.get().ours == "AcmeTaxi"


def test_an_opted_out_recipient_is_refused_with_a_clear_message(world: World) -> None:
    _number(world.tenant_a)
    with scope(tenant=world.tenant_a.pk):
        optout_record(tenant=world.tenant_a, phone="+46700000002", kind="out", word="STOP")
    response = _post_compose(
        client_for(world.owner_a),
        "acme",
        sender=OURS,
        recipients="+46700000001, +46700000002",
        message="Offer!",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "opted out and cannot be messaged: +46700000002" in page
    assert "Offer!" in page  # the form keeps what was typed
    with scopes_disabled():
        assert Message.objects.count() == 0


def test_an_inactive_or_smsless_number_is_not_offered(world: World) -> None:
    _number(world.tenant_a)
    _number(world.tenant_a, number="+46766861476", status="quarantined")
    _number(world.tenant_a, number="+46766861477", has_sms=False, has_mms=False)
    _number(world.tenant_b, number="+46766861478")
    page = client_for(world.owner_a).get("/t/acme/messages/new/").content.decode()
    assert f'value="{OURS}"' in page
    assert "+46766861476" not in page and "+46766861477" not in page and "+46766861478" not in page


def test_mms_with_an_image_is_queued_with_it(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    _number(world.tenant_a)
    key = str(uuid.uuid4())
    data = {
        "kind": "mms",
        "sender": OURS,
        "recipients": "+46700000001, +46700000002",
        "message": "Our new car",
        "request_key": key,
    }
    client = client_for(world.owner_a)
    upload = SimpleUploadedFile("photo.txt", GIF, content_type="text/plain")  # named wrongly
    assert client.post("/t/acme/messages/new/", {**data, "image": upload}).status_code == 302
    # A second submit of the same form attaches nothing more.
    again = SimpleUploadedFile("photo.gif", GIF, content_type="image/gif")
    assert client.post("/t/acme/messages/new/", {**data, "image": again}).status_code == 302
    with scopes_disabled():
        messages = list(Message.objects.order_by("other"))
        assert [m.kind for m in messages] == ["mms", "mms"]
        images = list(MessageImage.objects.order_by("message__other"))
    assert [i.message_id for i in images] == [m.pk for m in messages]
    assert {i.content_type for i in images} == {"image/gif"} and images[0].size == len(GIF)
    assert images[0].file.read() == GIF


@pytest.mark.parametrize(
    ("kind", "upload", "error"),
    [
        ("mms", ("evil.png", b"<?php echo 1; ?>"), "Only JPEG, PNG and GIF images"),
        ("mms", ("big.png", PNG_HEAD + b"\x00" * 2000), "The image is too large"),
        ("sms", ("ok.gif", GIF), "Images are sent as MMS"),
        ("mms", None, "An MMS needs an image or a text"),
    ],
)
def test_mms_upload_checks(world: World, settings, tmp_path, kind, upload, error) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.MMS_MAX_BYTES = 1000
    _number(world.tenant_a)
    data = {"kind": kind, "sender": OURS, "recipients": "+46700000001", "message": ""}
    if kind == "sms":
        data["message"] = "text"
    if upload:
        data["image"] = SimpleUploadedFile(upload[0], upload[1])
    response = _post_compose(client_for(world.owner_a), "acme", **data)
    assert response.status_code == 400
    assert error in response.content.decode()
    with scopes_disabled():
        assert Message.objects.count() == 0 and MessageImage.objects.count() == 0


def test_mms_needs_an_mms_number(world: World) -> None:
    _number(world.tenant_a, has_mms=False)
    response = _post_compose(
        client_for(world.owner_a),
        "acme",
        kind="mms",
        sender=OURS,
        recipients="+46700000001",
        message="pic",
    )
    assert response.status_code == 400
    assert "cannot send MMS" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "parts"),
    [
        ("Hej på dig", "GSM-7", 10, 1),  # ä/å are in the GSM alphabet
        ("€" * 80, "GSM-7", 80, 1),  # € is an extension character: two septets, 160 in all
        ("€" * 81, "GSM-7", 81, 2),
        ("a" * 161, "GSM-7", 161, 2),
        ("Hej 😀", "UCS-2", 5, 1),
        ("😀" * 36, "UCS-2", 36, 2),  # 72 UTF-16 units > 70
    ],
)
def test_counter_shows_encoding_parts_and_cost(
    world: World, text, encoding, characters, parts
) -> None:
    response = client_for(world.member_a).get(
        "/t/acme/messages/new/counter/",
        {"message": text, "recipients": "+46700000001\n+46700000002"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    # Only the content: the listening #counter element stays in the page (hx-swap innerHTML).
    assert 'id="counter"' not in page
    assert f'data-counter="encoding">{encoding}<' in page
    assert f'data-counter="characters">{characters}<' in page
    assert 'data-counter="recipients">2<' in page
    assert f'data-counter="parts">{parts}<' in page
    assert f"{parts * 2 * 4375 / 10000:.2f} SEK" in page  # the tenant's price: 0.35 + 25%


@pytest.mark.parametrize(
    "fields",
    [{"message": "", "recipients": "+46700000001"}, {"message": "Hej", "recipients": ""}],
    ids=["no text", "no recipient"],
)
def test_counter_estimates_nothing_until_there_is_a_text_and_a_recipient(
    world: World, fields
) -> None:
    page = (
        client_for(world.member_a)
        .get("/t/acme/messages/new/counter/", fields, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "SEK" not in page and "estimate appears once" in page


def test_counter_counts_valid_numbers_only_and_says_what_is_not_one(world: World) -> None:
    page = (
        client_for(world.member_a)
        .get(
            "/t/acme/messages/new/counter/",
            {"message": "Hej", "recipients": "+46700000001, 0701234567, hello, 12"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert 'data-counter="recipients">2<' in page
    assert "2 of what you typed are not phone numbers" in page
    assert "0.88 SEK" in page  # two recipients, one part each, at the tenant's price


# --- the log ----------------------------------------------------------------------------------


def test_log_filters_by_direction_number_status_and_dates(world: World) -> None:
    _number(world.tenant_a)
    _number(world.tenant_a, number="+46766861476")
    old = timezone.now() - timedelta(days=10)
    _message(world.tenant_a, body="old inbound", created=old)
    _message(world.tenant_a, body="new inbound")
    _message(world.tenant_a, direction="out", body="sent out", status="delivered")
    _message(world.tenant_a, direction="out", body="it failed", status="failed", error="Bad")
    _message(world.tenant_a, body="to other number", ours="+46766861476")
    _message(world.tenant_b, body="bravo only")
    client = client_for(world.member_a)

    def shown(**query: str) -> str:
        return client.get("/t/acme/messages/log/", query).content.decode()

    everything = shown()
    assert "old inbound" in everything and "bravo only" not in everything
    assert "it failed" in everything and "Bad" in everything
    only_out = shown(direction="out")
    assert "sent out" in only_out and "new inbound" not in only_out
    assert "to other number" not in shown(number=OURS) and "new inbound" in shown(number=OURS)
    assert "to other number" in shown(number="+46766861476")
    assert "it failed" in shown(status="failed") and "sent out" not in shown(status="failed")
    recent = shown(**{"from": str(timezone.localdate() - timedelta(days=1))})
    assert "new inbound" in recent and "old inbound" not in recent
    older = shown(to=str(timezone.localdate() - timedelta(days=5)))
    assert "old inbound" in older and "new inbound" not in older
    assert "No message matches" in shown(direction="in", status="delivered")
    # Nonsense filters are ignored rather than failing.
    assert "new inbound" in shown(direction="sideways", **{"from": "yesterday"})
    # The export link carries the filters, not the cursor.
    assert 'href="/t/acme/messages/log/export.csv?direction=out"' in only_out
    partial = client.get("/t/acme/messages/log/", {"status": "failed"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="results"')


def test_log_pages_by_keyset_with_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:
    client = client_for(world.owner_a)
    _bulk(world.tenant_a, 1, 1)
    with CaptureQueriesContext(connection) as small:
        client.get("/t/acme/messages/log/")
    with scopes_disabled():
        Message.objects.filter(tenant=world.tenant_a).delete()
        Conversation.objects.filter(tenant=world.tenant_a).delete()
    _bulk(world.tenant_a, 100, 3)
    with scopes_disabled():
        Message.objects.filter(tenant=world.tenant_a, direction="out").update(sender=world.owner_a)

    seen: list[str] = []
    cursor = None
    while True:
        with django_assert_max_num_queries(len(small)):
            page = client.get("/t/acme/messages/log/", {"after": cursor} if cursor else {})
        html = page.content.decode()
        seen += re.findall(r"message \d+ of \+\d+", html)
        found = re.search(r"after=([\w=-]+)", html)
        if not found:
            break
        cursor = found.group(1)
    assert len(seen) == 300 and len(set(seen)) == 300


# --- opt-outs ---------------------------------------------------------------------------------


def test_optout_ledger_and_recording_by_an_owner(world: World) -> None:
    inbound = _message(world.tenant_a, body="STOP")
    with scope(tenant=world.tenant_a.pk):
        optout_record(
            tenant=world.tenant_a, phone="+46700000001", kind="out", message=inbound, word="STOP"
        )
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/messages/opt-outs/").content.decode()
    assert "+46 70 000 00 01" in page and "“STOP”" in page and "Opted out" in page
    assert "Opt out / opt in a number" in page

    response = owner.post(
        "/t/acme/messages/opt-outs/record/",
        {"phone": "070-000 00 02", "kind": "out", "word": "asked by phone"},
    )
    assert response.status_code == 302
    assert "+46700000002 is opted out." in owner.get(response.url).content.decode()
    owner.post("/t/acme/messages/opt-outs/record/", {"phone": "+46700000001", "kind": "in"})
    with scopes_disabled():
        latest = OptOut.objects.filter(tenant=world.tenant_a).first()
        assert (latest.phone, latest.kind, latest.actor) == ("+46700000001", "in", world.owner_a)
        assert OptOut.objects.filter(tenant=world.tenant_b).count() == 0

    bad = owner.post("/t/acme/messages/opt-outs/record/", {"phone": "12", "kind": "out"})
    assert bad.status_code == 400 and "not a valid phone number" in bad.content.decode()


def test_members_read_the_ledger_but_cannot_record(world: World) -> None:
    member = client_for(world.member_a)
    page = member.get("/t/acme/messages/opt-outs/").content.decode()
    assert "No opt-outs yet" in page and "Opt out / opt in a number" not in page
    response = member.post(
        "/t/acme/messages/opt-outs/record/", {"phone": "+46700000002", "kind": "out"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert OptOut.objects.count() == 0


# --- settings ---------------------------------------------------------------------------------


def test_owner_changes_the_messaging_settings(world: World) -> None:
    owner = client_for(world.owner_a)
    assert "Save settings" in owner.get("/t/acme/messages/settings/").content.decode()
    response = owner.post(
        "/t/acme/messages/settings/",
        {
            "default_country": "no",
            "stop_words": "stop, Slutt ,STOP",
            "start_words": "start",
            "dontlog": "on",
            "retention_days": "90",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        saved = MessagingSettings.objects.get(tenant=world.tenant_a)
    assert saved.default_country == "NO" and saved.stop_words == "STOP,SLUTT"
    assert saved.dontlog and saved.retention_days == 90
    # The default country is used for recipients typed in national format.
    _number(world.tenant_a)
    _post_compose(owner, "acme", sender=OURS, recipients="412 34 567", message="Hei")
    with scopes_disabled():
        assert Message.objects.get().other == "+4741234567"


def test_settings_are_validated(world: World) -> None:
    response = client_for(world.owner_a).post(
        "/t/acme/messages/settings/",
        {"default_country": "S1", "stop_words": "STOP", "start_words": "stop"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose a country from the list." in page and "cannot both stop and start" in page


def test_members_see_the_settings_but_cannot_change_them(world: World) -> None:
    member = client_for(world.member_a)
    page = member.get("/t/acme/messages/settings/").content.decode()
    assert "Only owners can change these settings." in page and "disabled" in page
    response = member.post("/t/acme/messages/settings/", {"default_country": "NO"})
    assert response.status_code == 403
    with scopes_disabled():
        assert not MessagingSettings.objects.filter(default_country="NO").exists()


def test_members_send_and_read(world: World) -> None:
    _number(world.tenant_a)
    member = client_for(world.member_a)
    for path in ("", "new/", "log/", "opt-outs/", "settings/"):
        assert member.get(f"/t/acme/messages/{path}").status_code == 200
    response = _post_compose(
        member, "acme", sender=OURS, recipients="+46700000001", message="From a member"
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Message.objects.get().sender == world.member_a

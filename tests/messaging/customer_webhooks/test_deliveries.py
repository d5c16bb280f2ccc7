"""Inbound SMS and MMS posted to a customer's webhook: signing, retries, claims, SSRF, pages.

The receiver is a real HTTP server on 127.0.0.1; `CUSTOMER_WEBHOOK_ALLOW_PRIVATE` lets the
send-time address check pass for it, and tests of the check turn it off again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
from datetime import UTC, timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from django_scopes import scopes_disabled

from config import urls as project_urls
from core.crypto import mask
from messaging.customer_webhooks import services as cw
from messaging.customer_webhooks.models import CustomerWebhook, WebhookDelivery
from messaging.models import Message, MessageImage
from numbers.models import PhoneNumber
from tests.conftest import World, client_for
from tests.webhook_receiver import Received, Receiver

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

Status = WebhookDelivery.Status

# The pages are mounted by config/urls.py at /t/<slug>/messages/webhooks/; this urlconf adds
# that mount when it is missing, so these tests do not depend on the order of the merge.
_TENANT = "t/<slug:tenant_slug>/"
_tenant_patterns = list(project_urls.tenant_patterns)
if not any(str(p.pattern) == "messages/webhooks/" for p in _tenant_patterns):
    _tenant_patterns.insert(
        0, path("messages/webhooks/", include("messaging.customer_webhooks.urls"))
    )
urlpatterns = [p for p in project_urls.urlpatterns if str(p.pattern) != _TENANT]
urlpatterns.append(path(_TENANT, include(_tenant_patterns)))
pages = pytest.mark.urls(__name__)


def _number(tenant, url: str, provider_id: str = "n1", e164: str = "+46766861475"):
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant,
            provider_id=provider_id,
            number=e164,
            country="se",
            has_sms=True,
            status="active",
            label="Reception",
            sms_webhook_url=url,
        )


def _message(tenant, number, elks_id: str = "s1", **extra) -> Message:
    with scopes_disabled():
        return Message.objects.create(
            tenant=tenant,
            direction="in",
            status="received",
            source="inbound",
            number=number,
            ours=number.number,
            other="+46700000001",
            body="hej",
            elks_id=elks_id,
            **extra,
        )


def _delivery(**filters: object) -> WebhookDelivery:
    with scopes_disabled():
        return WebhookDelivery.objects.get(**filters)


def _signatures(headers: dict[str, str]) -> list[str]:
    return [v.strip().removeprefix("v1=") for v in headers[cw.SIGNATURE_HEADER].split(",")]


def _verifies(secret: str, received: Received) -> bool:
    """The verification snippet of the settings page, as a receiver would run it."""
    timestamp = received.headers[cw.TIMESTAMP_HEADER]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in _signatures(received.headers))


@pytest.fixture
def hooked(world: World, receiver: Receiver):
    """Tenant A's number posting to the receiver, a secret, and one inbound SMS enqueued."""
    number = _number(world.tenant_a, receiver.url())
    secret = cw.secret_rotate(tenant=world.tenant_a)
    message = _message(world.tenant_a, number)
    assert cw.deliveries_enqueue(message=message) == 1
    return number, message, secret


# --- enqueue ------------------------------------------------------------------------------------


def test_enqueue_twice_creates_one_delivery_and_makes_no_http(
    world: World, receiver: Receiver
) -> None:
    number = _number(world.tenant_a, receiver.url())
    message = _message(world.tenant_a, number)
    assert cw.deliveries_enqueue(message=message) == 1
    assert cw.deliveries_enqueue(message=message) == 0
    with scopes_disabled():
        delivery = WebhookDelivery.objects.get()
    assert (delivery.tenant_id, delivery.number_id, delivery.url) == (
        world.tenant_a.pk,
        number.pk,
        receiver.url(),
    )
    assert delivery.status == Status.PENDING
    assert receiver.requests == []


def test_enqueue_skips_numbers_without_a_url_and_outgoing(world: World) -> None:
    plain = _number(world.tenant_a, "")
    hooked = _number(world.tenant_a, "https://example.com/hook", "n2", "+46766861476")
    assert cw.deliveries_enqueue(message=_message(world.tenant_a, plain, "s1")) == 0
    with scopes_disabled():
        out = _message(world.tenant_a, hooked, "o1")
        Message.objects.filter(pk=out.pk).update(direction="out")
        out.refresh_from_db()
        no_number = _message(world.tenant_a, hooked, "s2")
        no_number.number = None
    assert cw.deliveries_enqueue(message=out) == 0
    assert cw.deliveries_enqueue(message=no_number) == 0
    with scopes_disabled():
        assert not WebhookDelivery.objects.exists()


# --- sending and signing --------------------------------------------------------------------------


def test_delivery_is_posted_as_signed_json(world: World, receiver: Receiver, hooked) -> None:
    _, message, secret = hooked
    assert cw.deliveries_send_due() == 1

    [received] = receiver.requests
    assert received.path == "/hook"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "Switchboard-Webhooks/1"
    assert len(_signatures(received.headers)) == 1
    assert _verifies(secret, received)
    assert not _verifies("another-secret", received)
    payload = json.loads(received.body)
    assert payload == {
        "event": "sms.received",
        "id": "s1",
        "from": "+46700000001",
        "to": "+46766861475",
        "message": "hej",
        "created": message.created.astimezone(UTC).isoformat(timespec="seconds"),
        "number_label": "Reception",
    }
    delivery = _delivery()
    assert delivery.status == Status.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    assert delivery.delivered_at is not None
    # Delivered rows are not sent again.
    assert cw.deliveries_send_due() == 0
    assert len(receiver.requests) == 1


# --- MMS ---------------------------------------------------------------------------------------


@pytest.fixture
def hooked_mms(world: World, receiver: Receiver, settings, tmp_path):
    """An inbound MMS with two images on a hooked number: one downloaded, one not yet."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PUBLIC_BASE_URL = "https://switchboard.example.com"
    number = _number(world.tenant_a, receiver.url())
    secret = cw.secret_rotate(tenant=world.tenant_a)
    message = _message(world.tenant_a, number, "m1", kind="mms")
    with scopes_disabled():
        here = MessageImage(tenant=world.tenant_a, message=message, source_url="https://a/1")
        here.file.save("m1.png", ContentFile(PNG), save=False)
        here.content_type, here.size, here.downloaded = "image/png", len(PNG), timezone.now()
        here.save()
        later = MessageImage.objects.create(
            tenant=world.tenant_a, message=message, source_url="https://a/2"
        )
    assert cw.deliveries_enqueue(message=message) == 1
    return message, here, later, secret


def test_an_mms_waits_for_its_images_then_is_posted_with_signed_links(
    world: World, receiver: Receiver, hooked_mms
) -> None:
    _, _, later, secret = hooked_mms
    assert cw.deliveries_send_due() == 0  # an image is still downloading: not an attempt
    delivery = _delivery()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    assert receiver.requests == []

    with scopes_disabled():
        MessageImage.objects.filter(pk=later.pk).update(error="Download failed: 404")
    assert cw.deliveries_send_due(now=timezone.now() + timedelta(minutes=1)) == 1
    [received] = receiver.requests
    assert _verifies(secret, received)
    payload = json.loads(received.body)
    assert payload["event"] == "mms.received" and payload["id"] == "m1"
    first, second = payload["images"]
    assert (first["content_type"], first["size"]) == ("image/png", len(PNG))
    assert first["url"].startswith("https://switchboard.example.com/media/mms/in/")
    assert second == {"url": None, "content_type": "", "size": 0}  # it never arrived

    # The link works without signing in, and only as signed.
    path = first["url"].removeprefix("https://switchboard.example.com")
    response = Client().get(path)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert Client().get(path[:-3] + "xx/").status_code == 404


def test_an_mms_is_posted_anyway_when_its_images_take_too_long(
    world: World, receiver: Receiver, hooked_mms
) -> None:
    late = timezone.now() + cw.MMS_IMAGE_WAIT + timedelta(seconds=1)
    assert cw.deliveries_send_due(now=late) == 1
    payload = json.loads(receiver.requests[0].body)
    assert [bool(i["url"]) for i in payload["images"]] == [True, False]


def test_image_links_expire_and_name_inbound_images_only(
    world: World, hooked_mms, settings
) -> None:
    message, here, _, _ = hooked_mms
    url = cw.image_url(image=here)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert cw.image_for_url(token=token) == here
    settings.MMS_IMAGE_URL_DAYS = 0
    assert cw.image_for_url(token=token) is None  # expired
    settings.MMS_IMAGE_URL_DAYS = 7
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(direction="out")
    assert cw.image_for_url(token=token) is None
    assert cw.image_for_url(token="not-signed") is None


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert cw.sign(secret="k", timestamp=1700000000, body=b"{}") == expected


def test_a_500_is_retried_with_backoff_then_delivered(
    world: World, receiver: Receiver, hooked
) -> None:
    receiver.answers = [500]
    now = timezone.now()
    assert cw.deliveries_send_due(now=now) == 1

    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    # The error keeps the start of the answer, never more than 500 characters.
    assert delivery.last_error.startswith("HTTP 500: boom")
    assert len(delivery.last_error) <= 500
    assert now + timedelta(seconds=23) <= delivery.next_attempt <= now + timedelta(seconds=37)

    # Not due yet: nothing is sent.
    assert cw.deliveries_send_due(now=now + timedelta(seconds=5)) == 0
    assert cw.deliveries_send_due(now=delivery.next_attempt) == 1
    delivery = _delivery()
    assert delivery.status == Status.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    assert len(receiver.requests) == 2
    # Each attempt is signed with its own timestamp.
    assert all(_verifies(hooked[2], r) for r in receiver.requests)


def test_backoff_grows_with_jitter_and_is_capped_at_an_hour() -> None:
    for attempts, base in [(1, 30), (2, 60), (3, 120), (6, 960)]:
        seconds = cw.backoff(attempts=attempts).total_seconds()
        assert base * 0.8 <= seconds <= base * 1.2
    assert cw.backoff(attempts=40).total_seconds() <= 3600
    assert len({cw.backoff(attempts=3) for _ in range(20)}) > 1


def test_gives_up_after_the_retry_window(world: World, receiver: Receiver, hooked) -> None:
    receiver.answers = [503] * 10
    created = _delivery().created
    deadline = created + timedelta(hours=24)

    cw.deliveries_send_due(now=created)
    # Late in the window the next attempt is never planned past the deadline.
    almost = deadline - timedelta(seconds=10)
    assert cw.deliveries_send_due(now=almost) == 1
    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt <= deadline

    assert cw.deliveries_send_due(now=deadline + timedelta(hours=1)) == 1
    delivery = _delivery()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 3
    assert cw.deliveries_send_due(now=deadline + timedelta(hours=5)) == 0
    assert len(receiver.requests) == 3


def test_retry_window_follows_the_setting(world, receiver, hooked, settings) -> None:
    settings.CUSTOMER_WEBHOOK_RETRY_HOURS = 1
    receiver.answers = [500]
    cw.deliveries_send_due(now=_delivery().created + timedelta(hours=2))
    assert _delivery().status == Status.FAILED


def test_a_redirect_is_a_failure_and_not_followed(world, receiver, hooked) -> None:
    receiver.answers = [302]
    cw.deliveries_send_due()
    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_an_unreachable_url_is_recorded_and_retried(world: World, receiver: Receiver) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    number = _number(world.tenant_a, f"http://127.0.0.1:{closed_port}/hook")
    cw.secret_rotate(tenant=world.tenant_a)
    cw.deliveries_enqueue(message=_message(world.tenant_a, number))
    cw.deliveries_send_due()
    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error


def test_without_a_secret_nothing_is_sent_unsigned(world: World, receiver: Receiver) -> None:
    number = _number(world.tenant_a, receiver.url())
    cw.deliveries_enqueue(message=_message(world.tenant_a, number))
    cw.deliveries_send_due()
    assert receiver.requests == []
    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert "No signing secret" in delivery.last_error

    # Once an owner creates one, the next retry goes out.
    secret = cw.secret_rotate(tenant=world.tenant_a)
    cw.deliveries_send_due(now=delivery.next_attempt)
    assert _delivery().status == Status.DELIVERED
    assert _verifies(secret, receiver.requests[0])


def test_a_changed_url_stops_the_retries_of_the_old_one(world, receiver, hooked) -> None:
    number = hooked[0]
    with scopes_disabled():
        PhoneNumber.objects.filter(pk=number.pk).update(sms_webhook_url="")
    cw.deliveries_send_due()
    assert receiver.requests == []
    delivery = _delivery()
    assert delivery.status == Status.FAILED
    assert "no longer posts" in delivery.last_error


# --- claiming -------------------------------------------------------------------------------------


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(
    world: World, receiver: Receiver, hooked, monkeypatch
) -> None:
    """While the first worker is posting, a second run finds nothing due."""
    now = timezone.now()
    nested: list[int] = []
    real_post = cw._post

    def post_while_another_worker_runs(**kwargs):
        nested.append(cw.deliveries_send_due(now=now))
        return real_post(**kwargs)

    monkeypatch.setattr(cw, "_post", post_while_another_worker_runs)
    assert cw.deliveries_send_due(now=now) == 1
    assert nested == [0]
    assert len(receiver.requests) == 1
    assert _delivery().attempts == 1


def test_a_worker_with_a_stale_list_cannot_claim_a_row_taken_since(
    world: World, receiver: Receiver, hooked
) -> None:
    now = timezone.now()
    delivery = _delivery()
    with scopes_disabled():
        # Two workers read the same due row; only the first conditional update wins.
        assert cw._claim(pk=delivery.pk, now=now) is True
        assert cw._claim(pk=delivery.pk, now=now) is False
    assert cw.deliveries_send_due(now=now) == 0
    assert receiver.requests == []
    # A worker that died holding the row leaves it due again once its lease ends.
    assert cw.deliveries_send_due(now=now + timedelta(minutes=2)) == 1
    assert len(receiver.requests) == 1


def test_the_race_exists_without_the_claim(world, receiver, hooked, monkeypatch) -> None:
    """Proof the nested-worker test can fail: with an always-true claim it double-sends."""
    now = timezone.now()
    monkeypatch.setattr(cw, "_claim", lambda *, pk, now: True)
    real_post = cw._post
    entered: list[bool] = []

    def post_while_another_worker_runs(**kwargs):
        if not entered:
            entered.append(True)
            cw.deliveries_send_due(now=now)
        return real_post(**kwargs)

    monkeypatch.setattr(cw, "_post", post_while_another_worker_runs)
    cw.deliveries_send_due(now=now)
    assert len(receiver.requests) == 2


# --- SSRF at send time ----------------------------------------------------------------------


def test_a_private_address_is_refused_at_send_time(world, receiver, hooked, settings) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    settings.CUSTOMER_WEBHOOK_ALLOWED_PORTS = [443, receiver.port]
    number = hooked[0]
    with scopes_disabled():
        # The URL passed the save-time check once; now it resolves to loopback.
        PhoneNumber.objects.filter(pk=number.pk).update(
            sms_webhook_url=receiver.url(host="localhost", scheme="https")
        )
        WebhookDelivery.objects.update(url=receiver.url(host="localhost", scheme="https"))
    cw.deliveries_send_due()
    assert receiver.requests == []
    delivery = _delivery()
    assert delivery.status == Status.PENDING
    assert "which is a loopback address" in delivery.last_error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fd00::1",
    ],
)
def test_non_global_addresses_are_refused(address: str, settings, monkeypatch) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(0, 0, 0, "", (address, 443))])
    with pytest.raises(cw.UnsafeURL):
        cw.resolve_public("https://hooks.example.com/in")


def test_a_host_with_any_private_address_is_refused(settings, monkeypatch) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    infos = [(0, 0, 0, "", ("93.184.216.34", 443)), (0, 0, 0, "", ("10.1.2.3", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: infos)
    with pytest.raises(cw.UnsafeURL):
        cw.resolve_public("https://hooks.example.com/in")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: infos[:1])
    assert cw.resolve_public("https://hooks.example.com/in") == "93.184.216.34"


def test_plain_http_is_refused_unless_private_is_allowed(settings) -> None:
    settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(cw.UnsafeURL, match="https"):
        cw.resolve_public("http://hooks.example.com/in")


# --- the secret -----------------------------------------------------------------------------------


def test_the_secret_is_encrypted_at_rest(world: World) -> None:
    secret = cw.secret_rotate(tenant=world.tenant_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM messaging_customerwebhook")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored
    with scopes_disabled():
        assert CustomerWebhook.objects.get().secret == secret


def test_rotation_signs_with_both_secrets_during_the_overlap(
    world: World, receiver: Receiver
) -> None:
    number = _number(world.tenant_a, receiver.url())
    old = cw.secret_rotate(tenant=world.tenant_a)
    new = cw.secret_rotate(tenant=world.tenant_a)
    assert old != new
    cw.deliveries_enqueue(message=_message(world.tenant_a, number, "s1"))
    cw.deliveries_send_due()
    received = receiver.requests[0]
    first, second = _signatures(received.headers)
    timestamp = received.headers[cw.TIMESTAMP_HEADER]
    assert first == cw.sign(secret=new, timestamp=timestamp, body=received.body)
    assert second == cw.sign(secret=old, timestamp=timestamp, body=received.body)

    # After 24 hours only the new secret signs.
    with scopes_disabled():
        rotated = CustomerWebhook.objects.get().rotated
    cw.deliveries_enqueue(message=_message(world.tenant_a, number, "s2"))
    cw.deliveries_send_due(now=rotated + timedelta(hours=25))
    later = receiver.requests[1]
    assert len(_signatures(later.headers)) == 1
    assert _verifies(new, later)
    assert not _verifies(old, later)


# --- pages ----------------------------------------------------------------------------------------


@pages
def test_owner_creates_and_rotates_the_secret_seen_once(world: World) -> None:
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/messages/webhooks/")
    assert page.status_code == 200
    assert "Create secret" in page.content.decode()

    created = owner.post("/t/acme/messages/webhooks/rotate/")
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    with scopes_disabled():
        secret = CustomerWebhook.objects.get(tenant=world.tenant_a).secret
    assert secret in created.content.decode()

    later = owner.get("/t/acme/messages/webhooks/").content.decode()
    assert secret not in later
    assert mask(secret) in later
    assert "verify(" in later  # the verification snippet

    rotated = owner.post("/t/acme/messages/webhooks/rotate/").content.decode()
    with scopes_disabled():
        webhook = CustomerWebhook.objects.get(tenant=world.tenant_a)
    assert webhook.previous_secret == secret
    assert webhook.secret in rotated
    assert secret not in rotated
    assert "previous secret" in rotated


@pages
def test_member_sees_the_pages_but_cannot_rotate_or_resend(
    world: World, receiver: Receiver, hooked
) -> None:
    number, _, secret = hooked
    cw.deliveries_send_due()
    delivery = _delivery()
    member = client_for(world.member_a)

    settings_page = member.get("/t/acme/messages/webhooks/").content.decode()
    assert secret not in settings_page
    assert "Only owners" in settings_page
    assert member.post("/t/acme/messages/webhooks/rotate/").status_code == 403

    log = member.get(f"/t/acme/messages/webhooks/numbers/{number.pk}/")
    assert log.status_code == 200
    assert "Re-send" not in log.content.decode()
    resend = f"/t/acme/messages/webhooks/deliveries/{delivery.pk}/resend/"
    assert member.post(resend).status_code == 403
    assert len(receiver.requests) == 1
    with scopes_disabled():
        assert CustomerWebhook.objects.get().secret == secret


@pages
def test_owner_reads_the_log_and_resends(world: World, receiver: Receiver, hooked) -> None:
    number = hooked[0]
    receiver.answers = [500]
    created = _delivery().created
    cw.deliveries_send_due(now=created + timedelta(hours=25))
    assert _delivery().status == Status.FAILED
    owner = client_for(world.owner_a)
    log_url = f"/t/acme/messages/webhooks/numbers/{number.pk}/"

    page = owner.get(log_url).content.decode()
    assert "<html" in page
    assert "Gave up" in page
    assert "HTTP 500" in page
    assert "Re-send" in page

    partial = owner.get(log_url, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert 'id="webhook-log"' in partial.content.decode()
    assert partial["Vary"] == "HX-Request" or "HX-Request" in partial["Vary"]

    delivery = _delivery()
    response = owner.post(f"/t/acme/messages/webhooks/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 302
    assert response["Location"] == log_url
    delivery = _delivery()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2

    # Re-sending a delivered one works too (the customer lost it), and answers HTMX in place.
    htmx = owner.post(
        f"/t/acme/messages/webhooks/deliveries/{delivery.pk}/resend/", HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 200
    assert "Sent again" in htmx.content.decode()
    assert len(receiver.requests) == 3


@pages
def test_a_pending_delivery_is_not_resent(world: World, receiver: Receiver, hooked) -> None:
    delivery = _delivery()
    assert cw.delivery_resend(delivery=delivery) is False
    assert receiver.requests == []
    response = client_for(world.owner_a).post(
        f"/t/acme/messages/webhooks/deliveries/{delivery.pk}/resend/", follow=True
    )
    assert "still being retried" in response.content.decode()
    assert receiver.requests == []


@pages
def test_the_log_is_paginated_newest_first(world: World, receiver: Receiver) -> None:
    number = _number(world.tenant_a, receiver.url())
    for i in range(30):
        cw.deliveries_enqueue(message=_message(world.tenant_a, number, f"s{i}"))
    with scopes_disabled():
        base = timezone.now()
        for i, d in enumerate(WebhookDelivery.objects.order_by("pk")):
            WebhookDelivery.objects.filter(pk=d.pk).update(created=base + timedelta(seconds=i))
    owner = client_for(world.owner_a)
    url = f"/t/acme/messages/webhooks/numbers/{number.pk}/"
    first = owner.get(url, HTTP_HX_REQUEST="true").content.decode()
    with scopes_disabled():
        newest_first = list(
            WebhookDelivery.objects.order_by("-created").values_list("pk", flat=True)
        )
    assert re.findall(r'id="delivery-(\d+)"', first) == [str(pk) for pk in newest_first[:25]]
    cursor = re.search(r"\?after=([\w=-]+)", first).group(1)
    second = owner.get(f"{url}?after={cursor}", HTTP_HX_REQUEST="true").content.decode()
    assert re.findall(r'id="delivery-(\d+)"', second) == [str(pk) for pk in newest_first[25:]]
    assert "?after=" not in second
    assert "Newest" in second


@pages
def test_another_tenant_gets_404(world: World, receiver: Receiver, hooked) -> None:
    number = hooked[0]
    delivery = _delivery()
    outsider = client_for(world.owner_b)
    assert outsider.get(f"/t/acme/messages/webhooks/numbers/{number.pk}/").status_code == 404
    assert outsider.get("/t/acme/messages/webhooks/").status_code == 404
    assert outsider.post("/t/acme/messages/webhooks/rotate/").status_code == 404
    # Tenant A's ids under tenant B's own slug are not found either.
    assert outsider.get(f"/t/bravo/messages/webhooks/numbers/{number.pk}/").status_code == 404
    resend = f"/t/bravo/messages/webhooks/deliveries/{delivery.pk}/resend/"
    assert outsider.post(resend).status_code == 404
    assert receiver.requests == []
    with scopes_disabled():
        assert not CustomerWebhook.objects.filter(tenant=world.tenant_b).exists()


def test_one_broken_delivery_does_not_stop_the_batch(
    world: World, receiver: Receiver, hooked, monkeypatch
) -> None:
    number = hooked[0]
    cw.deliveries_enqueue(message=_message(world.tenant_a, number, "s2"))
    real_payload = cw.payload_for
    calls: list[int] = []

    def payload_breaking_once(*, delivery):
        calls.append(delivery.pk)
        if len(calls) == 1:
            raise RuntimeError("bad row")
        return real_payload(delivery=delivery)

    monkeypatch.setattr(cw, "payload_for", payload_breaking_once)
    assert cw.deliveries_send_due() == 2
    with scopes_disabled():
        broken = WebhookDelivery.objects.get(pk=calls[0])
        fine = WebhookDelivery.objects.get(pk=calls[1])
    assert broken.status == Status.PENDING
    assert "Internal error" in broken.last_error
    assert fine.status == Status.DELIVERED
    assert len(receiver.requests) == 1

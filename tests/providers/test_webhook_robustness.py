"""Callbacks whatever their bytes (issue 11, items 1, 2 and 29).

Every callback endpoint stores what arrives (raw body beside a parsed form PostgreSQL accepts)
or answers a 4xx with a reason, never a 5xx; events without an id are keyed on a stable digest;
transient processing errors are retried with backoff, permanent ones wait for staff.
Run on PostgreSQL too: NUL and lone surrogates only fail there.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
import redis
import requests
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calls.models import Call
from messaging import inbound
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from providers.callbacks import body_digest
from providers.elks.errors import ElksInvalidRequest, ElksServerError
from providers.models import WebhookEvent
from providers.services import transient_error, webhook_process, webhook_store, webhooks_drain
from tests.conftest import client_for

FORM = "application/x-www-form-urlencoded"
NOW = "2026-11-25T10:00:00.123456"


@pytest.fixture
def hooks(rented_number, live_tenant):
    """Every callback URL under /hooks/ with a working token, and a plausible payload each."""
    number = rented_number
    message = Message.objects.create(
        tenant=live_tenant,
        kind="sms",
        direction="out",
        status="sent",
        number=number,
        ours=number.number,
        other="+46700000001",
        body="Hej",
    )
    campaign = Campaign.objects.create(
        tenant=live_tenant, name="Spring", sender="Shop", template="Hi!"
    )
    CampaignRecipient.objects.create(
        tenant=live_tenant, campaign=campaign, phone="+46700000002", status="sent", elks_id="sc1"
    )
    base = f"/hooks/elks/{number.hook_token}"
    sms = {"id": "s1", "from": "+46700000001", "to": number.number, "message": "Hej"}
    sms |= {"direction": "incoming", "created": NOW}
    call = {"callid": "c1", "from": "+46700000001", "to": number.number, "created": NOW}
    wav = "https://api.46elks.com/a1/recordings/c1-r0.wav"
    report = {"id": "s1", "status": "delivered", "delivered": "2026-11-25T10:00:01Z"}
    return {
        "sms": (f"{base}/sms/", "sms", sms),
        "mms": (f"{base}/mms/", "mms", {**sms, "image": "https://api.46elks.com/a1/images/i1"}),
        "voice": (f"{base}/voice/", "voice_start", {**call, "direction": "incoming"}),
        "hangup": (
            f"{base}/hangup/",
            "hangup",
            {"id": "c1", "state": "success", "direction": "incoming", "from": "+4670"},
        ),
        "recording": (f"{base}/recording/", "recording", {**call, "wav": wav, "duration": "3"}),
        "voicemail": (f"{base}/voicemail/", "voicemail", {**call, "wav": wav, "duration": "3"}),
        "dlr": (f"/hooks/elks/dlr/{message.callback_token}/", "dlr", report),
        "cdlr": (f"/hooks/elks/cdlr/{campaign.callback_token}/", "cdlr", {**report, "id": "sc1"}),
    }


def _post(path: str, body: bytes, content_type: str = FORM):
    # CONTENT_TYPE set explicitly: the test client leaves it out when the body is empty.
    return Client().generic("POST", path, data=body, CONTENT_TYPE=content_type)


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


ENDPOINTS = ["sms", "mms", "voice", "hangup", "recording", "voicemail", "dlr", "cdlr"]


# --- item 1: NUL and other bytes PostgreSQL refuses ---------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_nul_in_any_field_is_answered_2xx_and_stored_with_its_raw_body(hooks, endpoint) -> None:
    path, kind, payload = hooks[endpoint]
    # NUL inside each value in turn (each post a different event), then in a field's name.
    variants = []
    for n, name in enumerate(payload, start=1):
        fields = {k: f"{v}-{n}" if k in ("id", "callid") else v for k, v in payload.items()}
        if "wav" in fields:  # recordings are keyed on the file name
            fields["wav"] = fields["wav"].replace("-r0", f"-r{n}")
        fields[name] = f"{fields[name][:3]}\x00{fields[name][3:]}"
        variants.append(fields)
    variants.append({**payload, "x\x00y": "z", "id": "s-name", "callid": "c-name"})
    for fields in variants:
        body = _form(fields)
        response = _post(path, body)
        assert response.status_code in (200, 204), (fields, response.content)
        event = WebhookEvent.objects.get(kind=kind, raw_body=body)
        assert bytes(event.raw_body) == body  # the original bytes, NUL included
        stored = json.dumps(event.payload)
        assert "\\u0000" not in stored and "\\ufffd" in stored  # NUL → U+FFFD, parsed form only
        if endpoint == "voice":  # still the call plan, or the call would end
            assert isinstance(response.json(), dict) and response.json()
    assert WebhookEvent.objects.filter(kind=kind).count() == len(variants)


def test_an_sms_with_nul_is_processed_with_the_nul_replaced(hooks) -> None:
    path, _, payload = hooks["sms"]
    body = _form({**payload, "message": "Hej\x00då", "from": "+4670000\x000001"})
    assert _post(path, body).status_code == 200
    with scopes_disabled():
        assert webhooks_drain() == 1
        event = WebhookEvent.objects.get()
        assert event.status == "processed", event.error
        message = Message.objects.get(direction="in")
    assert message.body == "Hej\ufffddå"
    assert bytes(event.raw_body) == body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_handler_processes_an_event_with_nul_in_its_free_text(hooks, endpoint) -> None:
    path, kind, payload = hooks[endpoint]
    fields = {**payload, "note": "a\x00b"}  # a field no handler reads
    for name in ("message", "from"):  # what a person typed or a caller id
        if name in fields:
            fields[name] = f"{fields[name]}\x00"
    assert _post(path, _form(fields)).status_code == 200
    with scopes_disabled():
        webhooks_drain()
    event = WebhookEvent.objects.get(kind=kind)
    if kind == "voice_start":  # answered in the request; no handler
        assert event.status == "pending" and Call.objects.filter(elks_id="c1").exists()
    else:
        assert (event.status, event.error) == ("processed", "")


def test_lone_surrogates_from_an_odd_charset_are_stored(hooks) -> None:
    path, _, payload = hooks["sms"]
    # UTF-7 decodes "+2AA-" to a lone surrogate, which neither jsonb nor text accepts.
    body = _form({**payload, "id": "s-utf7"}) + b"&note=+2AA-"
    response = _post(path, body, f"{FORM}; charset=utf-7")
    assert response.status_code == 200
    event = WebhookEvent.objects.get(dedupe_key="s-utf7")
    assert event.payload["note"] == "\ufffd" and bytes(event.raw_body) == body


def test_a_declared_latin1_charset_is_honoured(hooks) -> None:
    path, _, payload = hooks["sms"]
    body = urlencode({**payload, "message": "Hej då"}, encoding="iso-8859-1").encode()
    assert _post(path, body, f"{FORM}; charset=ISO-8859-1").status_code == 200
    assert WebhookEvent.objects.get().payload["message"] == "Hej då"


def test_voice_start_with_a_callid_too_long_for_a_call_still_answers_the_plan(hooks) -> None:
    path, _, payload = hooks["voice"]
    response = _post(path, _form({**payload, "callid": "c" * 5000}))
    assert response.status_code == 200 and response.json()
    assert WebhookEvent.objects.filter(kind="voice_start").count() == 1
    assert not Call.objects.exists()  # not a 46elks call id: the hangup will tell


@pytest.mark.parametrize("token", ["tok\x00en", "x" * 65])
def test_an_impossible_token_is_a_plain_404(hooks, token: str) -> None:
    for path in (f"/hooks/elks/{token}/sms/", f"/hooks/elks/dlr/{token}/"):
        response = _post(path, b"id=1")
        assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


# --- item 2: events without an id, and bodies that are not forms --------------------------------


@pytest.mark.parametrize("endpoint", ["hangup", "sms", "dlr"])
def test_id_less_events_are_keyed_on_a_stable_digest_of_path_and_body(hooks, endpoint) -> None:
    path, kind, payload = hooks[endpoint]
    first = _form({k: v for k, v in payload.items() if k not in ("id", "callid")})
    second = _form({k: v for k, v in payload.items() if k not in ("id", "callid")} | {"x": "1"})
    for body in (first, second, first, first):  # a replay of `first` is the same event
        assert _post(path, body).status_code == 200
    events = WebhookEvent.objects.filter(kind=kind).order_by("id")
    assert events.count() == 2
    # The key is computed here, in another process than the one that will check it later:
    # SHA-256 of the URL path, a newline and the raw body (not Python's per-process hash()).
    expected = [hashlib.sha256(path.encode() + b"\n" + b).hexdigest() for b in (first, second)]
    assert [e.dedupe_key for e in events] == [f"no-id:{digest}" for digest in expected]
    assert [bytes(e.raw_body) for e in events] == [first, second]
    assert body_digest(path=path, raw=first) == expected[0]


def test_an_empty_form_is_stored_once_and_fails_processing_with_a_reason(hooks) -> None:
    path, _, _ = hooks["hangup"]
    assert _post(path, b"").status_code == 200
    assert _post(path, b"").status_code == 200
    with scopes_disabled():
        webhooks_drain()
    event = WebhookEvent.objects.get()
    assert event.status == "failed" and 'missing field "id"' in event.error


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"id": "s1", "message": "Hej"}'),
        ("text/plain", b"id=s1&message=Hej"),
        ("", b"id=s1&message=Hej"),
        ("application/octet-stream", b"\x00\xff\xfe"),
    ],
)
@pytest.mark.parametrize("endpoint", ["sms", "voice", "dlr"])
def test_a_body_that_is_not_a_form_gets_415_with_a_reason_and_nothing_is_stored(
    hooks, endpoint, content_type, body
) -> None:
    path, _, _ = hooks[endpoint]
    response = _post(path, body, content_type)
    assert response.status_code == 415
    assert b"form-encoded" in response.content and b"application/x-www-form-urlencoded" in (
        response.content
    )
    assert not WebhookEvent.objects.exists()


def test_multipart_form_data_is_read_as_a_form(hooks) -> None:
    path, _, payload = hooks["sms"]
    body = encode_multipart(BOUNDARY, {**payload, "message": "Hej\x00"})
    assert _post(path, body, MULTIPART_CONTENT).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.payload["message"] == "Hej\ufffd" and bytes(event.raw_body) == body


def test_broken_multipart_and_oversized_bodies_are_4xx(hooks, settings) -> None:
    path, _, _ = hooks["sms"]
    assert _post(path, b"garbage", "multipart/form-data").status_code == 400  # no boundary
    assert _post(path, b"&" * 1500).status_code == 400  # more fields than Django allows
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = _post(path, b"id=1&message=" + b"x" * 2000)
    assert response.status_code == 413 and b"too large" in response.content
    assert not WebhookEvent.objects.exists()


# --- item 29: transient errors are retried, permanent ones wait for staff ------------------------


def _stored_sms(hooks) -> WebhookEvent:
    path, _, payload = hooks["sms"]
    assert _post(path, _form(payload)).status_code == 200
    return WebhookEvent.objects.get()


def _make_due(event: WebhookEvent) -> None:
    past = timezone.now() - timedelta(minutes=5)
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt=past, received=past)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("deadlock detected"),
        InterfaceError("connection already closed"),
        requests.ConnectionError("reset by peer"),
        requests.Timeout("read timed out"),
        redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
        ElksServerError("46elks answered 503", status=503, retryable=True),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_transient_error_is_retried_with_backoff_and_later_succeeds(hooks, error) -> None:
    event = _stored_sms(hooks)
    real, failures = inbound.conversations_advance, [error]

    def flaky(message: Message) -> object:
        if failures:
            raise failures.pop()
        return real(message)

    with mock.patch.object(inbound, "conversations_advance", side_effect=flaky), scopes_disabled():
        before = timezone.now()
        webhook_process(event.pk)
        event.refresh_from_db()
        assert (event.status, event.attempts) == ("pending", 1)
        assert type(error).__name__ in event.error
        # 30 s, plus up to a quarter of jitter.
        delay = (event.next_attempt - before).total_seconds()
        assert 29 <= delay <= 38
        assert not Message.objects.filter(
            direction="in"
        ).exists()  # the attempt's writes were rolled back
        assert webhooks_drain() == 0  # not due yet: neither a drain nor the replay takes it
        assert webhooks_drain(older_than=timedelta(minutes=1)) == 0
        _make_due(event)
        assert webhooks_drain(older_than=timedelta(minutes=1)) == 1  # the beat's replay
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error, event.next_attempt) == (
        "processed",
        2,
        "",
        None,
    )
    with scopes_disabled():
        assert Message.objects.filter(direction="in").count() == 1


def test_the_delay_grows_and_retries_stop_after_the_configured_attempts(hooks, settings) -> None:
    settings.WEBHOOK_RETRY_ATTEMPTS = 4
    event = _stored_sms(hooks)
    delays = []
    down = OperationalError("down")
    with mock.patch.object(inbound, "conversations_advance", side_effect=down), scopes_disabled():
        for _ in range(4):
            _make_due(event)
            started = timezone.now()
            webhook_process(event.pk)
            event.refresh_from_db()
            if event.next_attempt:
                delays.append((event.next_attempt - started).total_seconds())
    assert [round(d / 30) for d in delays] in ([1, 2, 4], [1, 2, 5], [1, 3, 4], [1, 3, 5])
    assert all(delays[i] < delays[i + 1] for i in range(len(delays) - 1))
    assert (event.status, event.attempts) == ("failed", 4)
    assert event.error.startswith("Gave up after 4 attempts: OperationalError: down")


@pytest.mark.parametrize(
    "error",
    [
        ValueError("invalid literal"),
        ElksInvalidRequest('Missing key "to"', status=400, retryable=False),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_permanent_error_fails_at_once_and_keeps_its_reason(hooks, error) -> None:
    event = _stored_sms(hooks)
    with mock.patch.object(inbound, "conversations_advance", side_effect=error), scopes_disabled():
        webhook_process(event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt) == ("failed", 1, None)
    assert event.error == f"{type(error).__name__}: {error}"
    _make_due(event)
    with scopes_disabled():
        assert webhooks_drain(older_than=timedelta(minutes=1)) == 0  # waits for staff


def test_transient_is_read_through_the_cause_chain() -> None:
    try:
        try:
            raise requests.ConnectionError("refused")
        except requests.ConnectionError as exc:
            raise RuntimeError("sending failed") from exc
    except RuntimeError as wrapped:
        assert transient_error(wrapped)
    assert not transient_error(RuntimeError("no cause"))
    assert not transient_error(ElksInvalidRequest("bad", retryable=False))


def test_staff_see_attempts_and_next_try_and_can_retry_a_waiting_event_now(hooks, world) -> None:
    event = _stored_sms(hooks)
    locked = OperationalError("locked")
    with mock.patch.object(inbound, "conversations_advance", side_effect=locked), scopes_disabled():
        webhook_process(event.pk)
    staff = client_for(world.staff)
    page = staff.get("/staff/webhooks/?status=pending").content.decode()
    assert "OperationalError: locked" in page and "<small>next " in page and "Raw body" in page
    response = staff.post(f"/staff/webhooks/{event.pk}/retry/", follow=True)
    assert f"Event {event.pk} processed." in response.content.decode()
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)


def test_the_store_keeps_the_raw_body_in_its_one_insert(db, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert webhook_store(
            provider="elks", kind="sms", dedupe_key="r1", payload={"id": "r1"}, raw=b"id=r1\xff"
        )
    assert bytes(WebhookEvent.objects.get().raw_body) == b"id=r1\xff"


# --- the check: arbitrary bytes to every callback endpoint --------------------------------------

_CHARSETS = ["", "utf-8", "UTF-8", "iso-8859-1", "utf-7", "utf-16", "rot13", "hex", "idna", "x"]
_CONTENT_TYPES = [
    FORM,
    *[f"{FORM}; charset={c}" for c in _CHARSETS if c],
    MULTIPART_CONTENT,
    "multipart/form-data",
    "multipart/form-data; boundary=",
    f"{MULTIPART_CONTENT}; charset=rot13",
    f"{MULTIPART_CONTENT}; charset=utf-16",
    "application/json",
    "text/plain; charset=utf-8",
    "application/octet-stream",
    "",
]
_names = st.sampled_from(
    ["id", "callid", "from", "to", "message", "created", "status", "wav", "image", "state"]
)
_huge = st.builds(
    lambda n, c: c * n, st.integers(1000, 100_000), st.sampled_from(["x", "\x00", "å", "\ud7ff"])
)
_values = st.one_of(st.text(max_size=40), _huge)
_fields = st.dictionaries(st.one_of(_names, st.text(max_size=10)), _values, max_size=8)


@st.composite
def _requests(draw) -> tuple[str, bytes, str]:
    endpoint = draw(st.sampled_from(ENDPOINTS))
    shape = draw(st.sampled_from(["form", "multipart", "bytes"]))
    if shape == "form":
        fields = draw(_fields)
        charset = draw(st.sampled_from(["utf-8", "iso-8859-1"]))
        body = urlencode(fields, encoding=charset, errors="replace").encode()
        if draw(st.booleans()):  # raw bytes where percent-escapes belong
            body += b"&" + draw(st.binary(max_size=40))
        content_type = draw(st.sampled_from(_CONTENT_TYPES[: len(_CHARSETS)]))
    elif shape == "multipart":
        fields = {k.replace("\r", "").replace("\n", ""): v for k, v in draw(_fields).items()}
        body = encode_multipart(BOUNDARY, fields)
        content_type = draw(st.sampled_from([MULTIPART_CONTENT, *_CONTENT_TYPES]))
    else:
        body = draw(st.one_of(st.binary(max_size=400), _huge.map(lambda s: s.encode("utf-8"))))
        content_type = draw(st.sampled_from(_CONTENT_TYPES))
    return endpoint, body, content_type


@given(sample=_requests())
@hsettings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_arbitrary_bytes_to_every_callback_endpoint_never_give_a_5xx(hooks, sample) -> None:
    endpoint, body, content_type = sample
    path, kind, _ = hooks[endpoint]
    WebhookEvent.objects.all().delete()
    response = _post(path, body, content_type)
    assert response.status_code < 500
    stored = list(WebhookEvent.objects.all())
    if 200 <= response.status_code < 300:
        assert len(stored) == 1 and stored[0].kind == kind and bytes(stored[0].raw_body) == body
        if endpoint == "voice":
            assert isinstance(response.json(), dict)
    else:
        assert response.status_code in (400, 413, 415), response.content
        assert stored == [] and response.content  # a reason, nothing stored


def test_every_callback_route_is_covered() -> None:
    """The check above must grow with the URL conf: every /hooks/ route and number kind."""
    from django.urls import get_resolver

    from numbers.webhooks import KINDS

    hook_routes = {
        str(p.pattern) for p in get_resolver().url_patterns if str(p.pattern).startswith("hooks/")
    }
    assert hook_routes == {
        "hooks/elks/dlr/<str:token>/",
        "hooks/elks/cdlr/<str:token>/",
        "hooks/elks/<str:token>/voice/",
        "hooks/elks/<str:token>/<slug:kind>/",
    }
    assert set(KINDS) | {"voice", "dlr", "cdlr"} == set(ENDPOINTS)


def test_a_content_type_django_cannot_parse_is_no_500_through_the_wsgi_application(hooks) -> None:
    """Django raises while building the request for `charset*=<unknown>''…` (RFC 2231), before
    any middleware; the test client builds its own request, so this goes through the app."""
    from io import BytesIO

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_started
    from django.db import close_old_connections

    from config.wsgi import application

    path, _, payload = hooks["sms"]
    body = _form(payload)

    def call(app) -> str:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": f"{FORM}; charset*=bogus''x",
        }
        status = []
        app(environ, lambda s, headers, exc_info=None: status.append(s))
        return status[0]

    request_started.disconnect(close_old_connections)  # as the test client does
    try:
        with pytest.raises(ValueError, match="RFC 2231"):
            call(WSGIHandler())  # Django's own handler: the exception escapes (a 500)
        assert call(application).startswith("200")
    finally:
        request_started.connect(close_old_connections)
    assert WebhookEvent.objects.get().payload["message"] == "Hej"

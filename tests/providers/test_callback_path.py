"""The callback hot path: fast-path middleware, the per-process number cache, the wake window
and the prepared INSERT. Each keeps the store-first guarantees; these tests pin the edges."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_scopes import scope

from numbers.models import PhoneNumber
from numbers.selectors import forget_hook_numbers, number_for_hook_token
from numbers.services import number_route
from providers import wake
from providers.models import WebhookEvent
from providers.services import webhook_store, webhooks_drain


@pytest.fixture
def number(rented_number):
    return rented_number


def _post_sms(number: PhoneNumber, event_id: str = "s1", **extra: str):
    payload = {"id": event_id, "from": "+46700000001", "to": number.number, "message": "Hej!"}
    payload |= {"direction": "incoming", "created": "2026-11-25T10:00:00.123456"}
    return Client().post(f"/hooks/elks/{number.hook_token}/sms/", payload, **extra)


# --- fast path ---------------------------------------------------------------------------------


def test_callbacks_skip_the_browser_middleware(number) -> None:
    response = _post_sms(number)
    assert response.status_code == 200
    # No session, CSRF or CSP machinery ran: no cookie, no Vary on it, no CSP header.
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "Content-Security-Policy" not in response
    # The browser stack still runs everywhere else.
    assert "Content-Security-Policy" in Client().get("/accounts/login/")


def test_unknown_token_and_unknown_path_are_plain_404s(number) -> None:
    for path in ("/hooks/elks/not-a-token/sms/", "/hooks/nothing-here/"):
        response = Client().post(path, {"id": "x"})
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/plain")
    assert WebhookEvent.objects.count() == 0


def test_callbacks_still_check_the_host_and_the_method(number) -> None:
    assert _post_sms(number, HTTP_HOST="evil.example").status_code == 400
    assert Client().get(f"/hooks/elks/{number.hook_token}/sms/").status_code == 405
    assert WebhookEvent.objects.count() == 0


# --- the number behind a token, kept per process ----------------------------------------------


def test_the_lean_row_is_kept_and_calls_always_read_the_database(number) -> None:
    token = number.hook_token
    number_for_hook_token(token, full=False)
    # Changed behind this process's back (another process, or a bulk update): still kept.
    PhoneNumber.objects.filter(pk=number.pk).update(sms_autoreply_text="changed")
    with mock.patch.object(PhoneNumber.objects, "filter", side_effect=AssertionError("queried")):
        assert number_for_hook_token(token, full=False).pk == number.pk
    assert number_for_hook_token(token).sms_autoreply_text == "changed"  # full: no cache


def test_a_save_in_this_process_is_seen_at_once(number, live_tenant, world) -> None:
    assert _post_sms(number, "s1").content == b""  # the row is now kept
    with scope(tenant=live_tenant.pk):
        number_route(
            number=number,
            actor=world.owner_a,
            sms_autoreply_enabled=True,
            sms_autoreply_text="Back soon.",
        )
    assert number_for_hook_token(number.hook_token, full=False).sms_autoreply_text == "Back soon."


def test_the_kept_row_expires(number, settings) -> None:
    settings.HOOK_NUMBER_CACHE_SECONDS = 10
    number_for_hook_token(number.hook_token, full=False)
    PhoneNumber.objects.filter(pk=number.pk).update(sms_autoreply_text="later")
    with mock.patch("numbers.selectors.time.monotonic", return_value=10**9):
        assert number_for_hook_token(number.hook_token, full=False).sms_autoreply_text == "later"


def test_unknown_tokens_are_not_kept(number, settings) -> None:
    assert number_for_hook_token("brand-new-token", full=False) is None
    PhoneNumber.objects.filter(pk=number.pk).update(hook_token="brand-new-token")
    # A number rented a moment ago answers its first callback.
    assert number_for_hook_token("brand-new-token", full=False).pk == number.pk


def test_zero_turns_the_cache_off(number, settings) -> None:
    settings.HOOK_NUMBER_CACHE_SECONDS = 0
    number_for_hook_token(number.hook_token, full=False)
    PhoneNumber.objects.filter(pk=number.pk).update(sms_autoreply_text="now")
    assert number_for_hook_token(number.hook_token, full=False).sms_autoreply_text == "now"
    forget_hook_numbers()


# --- the wake window ---------------------------------------------------------------------------


@pytest.fixture(params=["redis", "cache"])
def window_store(request, settings):
    """The wake window in Redis (CI) and in Django's cache (no REDIS_URL)."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (CI)")
    if request.param == "cache":  # as configured without REDIS_URL
        settings.REDIS_URL = ""
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        cache.clear()  # local-memory caches share their store across instances
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return request.param


def _stored_and_committed(number, event_id, capture):
    with capture(execute=True):  # run the on-commit wake as a real commit would
        assert _post_sms(number, event_id).status_code == 200


def test_one_drain_per_window_and_no_redis_call_per_event(
    number, window_store, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch("providers.tasks.webhooks_drain.apply_async") as publish,
        mock.patch.object(wake, "_open", wraps=wake._open) as asked,
    ):
        for n in range(5):
            _stored_and_committed(number, f"s{n}", django_capture_on_commit_callbacks)
    assert publish.call_count == 1
    window = publish.call_args.kwargs["kwargs"]["window"]
    assert wake.window_open(window)
    assert asked.call_count == 1  # the opener knows the window is open: no more calls


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI)")
def test_another_process_learns_how_long_the_window_stays_open(
    number, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch("providers.tasks.webhooks_drain.apply_async") as publish,
        mock.patch.object(wake, "_open", wraps=wake._open) as asked,
    ):
        _stored_and_committed(number, "s1", django_capture_on_commit_callbacks)
        wake.forget_window()  # as if the next events reached another web process
        _stored_and_committed(number, "s2", django_capture_on_commit_callbacks)
        _stored_and_committed(number, "s3", django_capture_on_commit_callbacks)
    assert publish.call_count == 1 and asked.call_count == 2
    assert 0 < wake._open_until - time.monotonic() <= 1.0


def test_the_drain_looks_until_its_window_closes(number, window_store, settings) -> None:
    settings.WEBHOOK_WAKE_SECONDS = 0.3
    with mock.patch("providers.tasks.webhooks_drain.apply_async") as publish:
        _post_sms(number, "s1")
        wake.wake_processor()  # what s1's commit runs
    window = publish.call_args.kwargs["kwargs"]["window"]
    looks: list[float] = []

    def window_open(window: str) -> bool:
        looks.append(time.monotonic())
        if len(looks) == 3:  # meanwhile another process stores an event, skipping the wake
            _store_raw("late")
        return wake.window_open(window)

    started = time.monotonic()
    with mock.patch("providers.services.window_open", side_effect=window_open):
        assert webhooks_drain(window=window) == 2
    assert time.monotonic() - started >= 0.2  # it kept looking until the window closed
    assert len(looks) > 3
    assert not WebhookEvent.objects.filter(status="pending").exists()


def test_a_drain_without_a_window_returns_when_empty(number) -> None:
    _post_sms(number, "s1")
    started = time.monotonic()
    assert webhooks_drain() == 1
    assert time.monotonic() - started < wake.POLL_SECONDS * 4


def test_a_refused_publish_closes_the_window_for_the_replay(
    number, window_store, django_capture_on_commit_callbacks
) -> None:
    with mock.patch(
        "providers.tasks.webhooks_drain.apply_async", side_effect=ConnectionError("broker down")
    ) as publish:
        _stored_and_committed(number, "s1", django_capture_on_commit_callbacks)
        _stored_and_committed(number, "s2", django_capture_on_commit_callbacks)
    assert publish.call_count == 2  # nobody skipped on a window without a drain
    assert WebhookEvent.objects.filter(status="pending").count() == 2  # for the replay


def test_redis_down_still_stores_and_answers(
    number, settings, django_capture_on_commit_callbacks
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with mock.patch("providers.tasks.webhooks_drain.apply_async") as publish:
        _stored_and_committed(number, "s1", django_capture_on_commit_callbacks)
    publish.assert_not_called()
    assert WebhookEvent.objects.get().status == "pending"  # the replay takes it


def test_eager_mode_drains_each_event_in_its_request(
    number, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    for n in range(3):
        _stored_and_committed(number, f"s{n}", django_capture_on_commit_callbacks)
        assert not WebhookEvent.objects.filter(status="pending").exists()


def _store_raw(event_id: str) -> None:
    webhook_store(provider="elks", kind="sms", dedupe_key=event_id, payload={"id": event_id})


# --- the store ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prepared", [True, False])
def test_store_is_one_insert_and_a_replay_is_not_new(
    number, settings, django_assert_num_queries, prepared: bool
) -> None:
    settings.WEBHOOK_PREPARED_INSERT = prepared
    payload = {"id": "x1", "message": "Hej ☃"}
    with django_assert_num_queries(1):  # counted like any other query
        assert webhook_store(provider="elks", kind="sms", dedupe_key="x1", payload=payload)
    assert not webhook_store(provider="elks", kind="sms", dedupe_key="x1", payload={"id": "x1"})
    assert WebhookEvent.objects.get().payload == payload


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_the_insert_is_prepared_on_postgresql(db) -> None:
    webhook_store(provider="elks", kind="sms", dedupe_key="p1", payload={"id": "p1"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("INSERT INTO providers_webhookevent" in s for s in statements)


def test_an_event_for_a_number_deleted_meanwhile_is_still_stored(number, live_tenant) -> None:
    gone = number.pk
    PhoneNumber.objects.filter(pk=gone).delete()
    assert webhook_store(
        provider="elks",
        kind="sms",
        dedupe_key="late",
        payload={"id": "late"},
        tenant_id=live_tenant.pk,
        number_id=gone,
    )
    assert WebhookEvent.objects.get(dedupe_key="late").number_id == gone

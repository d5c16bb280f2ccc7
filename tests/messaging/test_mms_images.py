"""Inbound MMS images are not lost with their one fetch task: retries with backoff, a beat
sweep for images still missing, and a visible "lost" state after the last attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import Conversation, Message, MessageImage
from messaging.sync import MmsImagesPending, mms_images_fetch, mms_images_sweep
from providers.elks.client import ElksClient
from providers.elks.errors import ElksServerError
from tests.conftest import client_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def mms(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with scope(tenant=world.tenant_a.pk):
        conversation = Conversation.objects.create(
            tenant=world.tenant_a, ours="+46766861475", other="+46700000001"
        )
        message = Message.objects.create(
            tenant=world.tenant_a,
            conversation=conversation,
            direction=Message.Direction.IN,
            kind=Message.Kind.MMS,
            status=Message.Status.RECEIVED,
            ours="+46766861475",
            other="+46700000001",
            elks_id="m1",
        )
        image = MessageImage.objects.create(
            tenant=world.tenant_a, message=message, elks_image_id="m1-i0", file_type="png"
        )
    return message, image


class Provider:
    """Stands in for 46elks' image download: fails ``failures`` times, then answers."""

    def __init__(self, failures: int, body: bytes = PNG) -> None:
        self.failures, self.body, self.calls = failures, body, 0

    def __call__(self, client, image_id, ext="jpg", *, max_bytes=0):
        self.calls += 1
        if self.calls <= self.failures:
            raise ElksServerError("46elks had a problem (HTTP 503).", status=503, retryable=True)
        return self.body


def test_a_transient_failure_is_retried_with_backoff(mms, monkeypatch) -> None:
    message, image = mms
    provider = Provider(failures=1)
    monkeypatch.setattr(ElksClient, "image_file", provider)
    with scope(tenant=message.tenant_id):
        with pytest.raises(MmsImagesPending) as pending:
            mms_images_fetch(message_id=message.pk)
        image.refresh_from_db()
        assert image.attempts == 1 and not image.error and "503" in image.last_error
        assert image.next_attempt > timezone.now() + timedelta(seconds=50)
        assert pending.value.delay == timedelta(minutes=1)
        # Not due yet: nothing is tried.
        assert mms_images_fetch(message_id=message.pk) == 0 and provider.calls == 1
    # The retry (or the sweep) once it is due.
    assert mms_images_sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    image.refresh_from_db()
    assert image.downloaded and image.content_type == "image/png" and image.attempts == 2


def test_the_sweep_fetches_images_whose_task_was_lost(mms, monkeypatch) -> None:
    _message, image = mms
    monkeypatch.setattr(ElksClient, "image_file", Provider(failures=0))
    assert mms_images_sweep() == 1
    image.refresh_from_db()
    assert image.downloaded and image.size == len(PNG)
    assert mms_images_sweep() == 0  # nothing left to do


def test_the_sweep_gives_up_after_the_last_attempt_and_shows_it(mms, world, monkeypatch) -> None:
    message, image = mms
    provider = Provider(failures=100)
    monkeypatch.setattr(ElksClient, "image_file", provider)
    now = timezone.now()
    for _ in range(django_settings.MMS_IMAGE_MAX_ATTEMPTS + 3):
        now += timedelta(hours=2)
        mms_images_sweep(now=now)
    image.refresh_from_db()
    assert provider.calls == django_settings.MMS_IMAGE_MAX_ATTEMPTS
    assert image.attempts == django_settings.MMS_IMAGE_MAX_ATTEMPTS
    assert image.error.startswith("Download failed") and not image.downloaded
    url = reverse("messaging:thread", args=("acme", message.conversation_id))
    page = client_for(world.owner_a).get(url)
    assert page.status_code == 200 and b"could not be fetched" in page.content


def test_not_an_image_is_given_up_at_once(mms, monkeypatch) -> None:
    message, image = mms
    monkeypatch.setattr(ElksClient, "image_file", Provider(failures=0, body=b"<html>"))
    with scope(tenant=message.tenant_id):
        assert mms_images_fetch(message_id=message.pk) == 0
    image.refresh_from_db()
    assert "not a JPEG" in image.error and image.attempts == 1


def test_outbound_images_are_not_swept(mms, world, monkeypatch) -> None:
    message, _image = mms
    provider = Provider(failures=0)
    monkeypatch.setattr(ElksClient, "image_file", provider)
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(direction=Message.Direction.OUT)
    assert mms_images_sweep() == 0 and provider.calls == 0


def test_a_concurrent_fetch_skips_a_claimed_image(mms, monkeypatch) -> None:
    _message, image = mms
    provider = Provider(failures=0)
    monkeypatch.setattr(ElksClient, "image_file", provider)
    # Another worker claimed it a moment ago (its lease pushes next_attempt ahead).
    with scopes_disabled():
        MessageImage.objects.filter(pk=image.pk).update(
            next_attempt=timezone.now() + timedelta(minutes=5)
        )
    assert mms_images_sweep() == 0 and provider.calls == 0


def test_the_sweep_is_on_the_beat_schedule() -> None:
    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "messaging.tasks.mms_images_sweep" in tasks
    from messaging.tasks import mms_images_sweep as task

    assert task.name == "messaging.tasks.mms_images_sweep"

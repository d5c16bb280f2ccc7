"""The one send lifecycle of a single message: claim, lease, attempt, finish, recover.

A worker that dies after its claim must not leave the message `sending` for ever: the beat
jobs on the `sending` queue give it back (never attempted) or settle it from 46elks' history.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from config.celery_app import app
from messaging.models import Message
from messaging.services import message_send, sms_queue


class WorkerDied(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def _queue(tenant, number, world, body="Hello"):  # type: ignore[no-untyped-def]
    [message] = sms_queue(
        tenant=tenant,
        sender=number.number,
        recipients=["+46700000001"],
        body=body,
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
    return message


def _sms_posts(elks) -> int:  # type: ignore[no-untyped-def]
    return len(elks.api_requests(method="POST", path="/a1/sms"))


def _run_sending_beat() -> None:
    """Every beat job routed to the `sending` queue, as beat would start them."""
    app.loader.import_default_modules()  # autodiscovery, as a worker does
    routes = django_settings.CELERY_TASK_ROUTES
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        if routes.get(entry["task"], {}).get("queue") == "sending":
            app.tasks[entry["task"]]()


def test_a_worker_that_dies_after_the_claim_does_not_leave_the_message_sending(
    world, live_tenant, rented_number, elks, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0  # the dead worker's lease has run out
    message = _queue(live_tenant, rented_number, world)
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(minutes=5))
    with (
        mock.patch("messaging.services.elks_for_tenant", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sending"  # claimed, and its worker is gone

    _run_sending_beat()

    message.refresh_from_db()
    assert message.status != "sending"
    assert message.status == "created" and message.elks_id  # sent, once
    assert _sms_posts(elks) == 1

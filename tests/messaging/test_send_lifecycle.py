"""The one send lifecycle of a single message: claim, lease, attempt, finish, recover.

A worker that dies after its claim must not leave the message `sending` for ever: the beat
jobs on the `sending` queue give it back (never attempted) or settle it from 46elks' history.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from config.celery_app import app
from messaging import lifecycle
from messaging.models import Message
from messaging.services import message_send, sms_queue
from messaging.sync import history_sync, outbox_sweep
from providers.elks.client import ElksClient
from providers.elks.errors import ElksError
from providers.elks.types import Sms

_real_sms_send = ElksClient.sms_send
# What a send found in the history may be by then (the sandbox moves it on after a while).
ACCEPTED = {"created", "sent", "delivered"}


class WorkerDied(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def _queue(tenant, number, world, body="Hello"):
    [message] = sms_queue(
        tenant=tenant,
        sender=number.number,
        recipients=["+46700000001"],
        body=body,
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
    return message


def _sms_posts(elks) -> int:
    return len(elks.api_requests(method="POST", path="/a1/sms"))


def _run_sending_beat() -> None:
    """Every beat job routed to the `sending` queue, as beat would start them."""
    app.loader.import_default_modules()  # autodiscovery, as a worker does
    routes = django_settings.CELERY_TASK_ROUTES
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        name = str(entry["task"])
        if routes.get(name, {}).get("queue") == "sending":
            app.tasks[name]()


def test_a_worker_that_dies_after_the_claim_does_not_leave_the_message_sending(
    world, live_tenant, rented_number, elks, settings
) -> None:
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


# --- each transition -------------------------------------------------------------------------


@pytest.fixture
def it(world, live_tenant, rented_number) -> SimpleNamespace:
    """A live tenant with a number, in its scope."""
    return SimpleNamespace(world=world, tenant=live_tenant, number=rented_number)


def _claimed(it: SimpleNamespace) -> Message:
    message = _queue(it.tenant, it.number, it.world)
    claimed = lifecycle.message_claim(message_id=message.pk)
    assert claimed is not None
    return claimed


def _lost_answer(self, **kwargs):
    """46elks accepts the send, and the answer never reaches us."""
    _real_sms_send(self, **kwargs)
    raise ElksError("answer lost", retryable=True, maybe_accepted=True)


def test_claim_moves_queued_to_sending_once_with_a_lease(it) -> None:
    message = _queue(it.tenant, it.number, it.world)
    claimed = lifecycle.message_claim(message_id=message.pk)
    assert claimed is not None and claimed.status == "sending"
    assert claimed.claimed_at is not None and claimed.attempted_at is None
    assert lifecycle.message_claim(message_id=message.pk) is None  # a second worker


def test_renew_extends_only_a_claim_still_held(it) -> None:
    message = _claimed(it)
    later = message.claimed_at + timedelta(seconds=20)
    assert lifecycle.message_renew(message=message, now=later)
    assert Message.objects.get(pk=message.pk).claimed_at == later
    stale = Message.objects.get(pk=message.pk)
    assert lifecycle.message_renew(message=message, now=later + timedelta(seconds=1))
    assert not lifecycle.message_renew(message=stale)  # another holder renewed since


def test_attempt_is_recorded_once_and_only_while_the_claim_holds(it, settings) -> None:
    message = _claimed(it)
    assert lifecycle.message_attempt(message=message)
    assert Message.objects.get(pk=message.pk).attempted_at is not None
    assert not lifecycle.message_attempt(message=message)  # the call began already

    other = _claimed(it)
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0
    lifecycle.messages_recover()  # its lease ran out: queued again
    assert Message.objects.get(pk=other.pk).status == "queued"
    assert not lifecycle.message_attempt(message=other)  # the slow worker must not send


def test_a_slow_worker_whose_lease_was_taken_back_does_not_send(it, elks, settings) -> None:
    message = _queue(it.tenant, it.number, it.world)
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0

    def recover_meanwhile(*args, **kwargs):
        lifecycle.messages_recover()
        return 1

    with mock.patch("messaging.services.settings_for") as prefs:
        prefs.return_value.dontlog = False
        prefs.side_effect = lambda tenant: recover_meanwhile() and prefs.return_value
        message_send(message_id=message.pk)
    assert Message.objects.get(pk=message.pk).status == "queued"
    assert _sms_posts(elks) == 0
    message_send(message_id=message.pk)  # the outbox sweep's turn: sent once
    assert Message.objects.get(pk=message.pk).status == "created"
    assert _sms_posts(elks) == 1


def test_finish_records_the_answer_of_this_claim_only(it) -> None:
    message = _claimed(it)
    stale = Message.objects.get(pk=message.pk)
    assert message.claimed_at is not None
    stale.claimed_at = message.claimed_at - timedelta(minutes=1)  # an older claim's worker
    assert not lifecycle.message_finish(message=stale, status="failed")
    assert lifecycle.message_finish(message=message, status="created", elks_id="s-1")
    assert not lifecycle.message_finish(message=message, status="failed")  # already finished
    assert Message.objects.get(pk=message.pk).status == "created"


def test_a_lost_answer_is_unknown_and_never_resent_blindly(it, elks) -> None:
    message = _queue(it.tenant, it.number, it.world)
    with mock.patch.object(ElksClient, "sms_send", _lost_answer):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "unknown" and message.attempted_at and message.elks_id is None
    outbox_sweep(older_than=timedelta(0))
    assert _sms_posts(elks) == 1


def test_an_answer_after_recover_gave_up_on_the_lease_is_kept(it, settings) -> None:
    message = _claimed(it)
    assert lifecycle.message_attempt(message=message)
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0
    settings.MESSAGE_RECONCILE_AFTER_SECONDS = 3600  # not settled from history yet
    done = lifecycle.messages_recover()
    assert done.unknown == 1 and Message.objects.get(pk=message.pk).status == "unknown"
    assert lifecycle.message_finish(message=message, status="created", elks_id="s-late")
    assert Message.objects.get(pk=message.pk).elks_id == "s-late"


def test_recover_finds_a_dead_workers_send_in_the_history(it, elks, settings) -> None:
    """The worker died after 46elks accepted the send, before it recorded the answer."""
    message = _queue(it.tenant, it.number, it.world)
    with (
        mock.patch("messaging.services.message_finish", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        message_send(message_id=message.pk)
    assert Message.objects.get(pk=message.pk).status == "sending"
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0
    settings.MESSAGE_RECONCILE_AFTER_SECONDS = 0
    done = lifecycle.messages_recover()
    assert (done.unknown, done.found) == (1, 1)
    message.refresh_from_db()
    assert message.status in ACCEPTED and message.elks_id.startswith("s")
    assert message.error == ""
    outbox_sweep(older_than=timedelta(0))
    assert _sms_posts(elks) == 1


def test_recover_waits_for_the_window_before_calling_a_send_unsent(it, elks, settings) -> None:
    message = _queue(it.tenant, it.number, it.world)
    with (
        mock.patch.object(ElksClient, "sms_send", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        message_send(message_id=message.pk)  # died after the attempt, before the request
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0
    settings.MESSAGE_RECONCILE_AFTER_SECONDS = 3600
    lifecycle.messages_recover()
    assert Message.objects.get(pk=message.pk).status == "unknown"
    later = timezone.now() + timedelta(hours=2)
    done = lifecycle.messages_recover(now=later)
    assert done.unsent == 1
    message.refresh_from_db()
    assert message.status == "failed" and message.failed_at and "no record" in message.error
    assert _sms_posts(elks) == 0


def test_recover_can_resend_what_the_history_lacks(it, elks, settings) -> None:
    settings.MESSAGE_UNSENT_AFTER_RECONCILE = "resend"
    message = _queue(it.tenant, it.number, it.world)
    with (
        mock.patch.object(ElksClient, "sms_send", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        message_send(message_id=message.pk)
    settings.MESSAGE_SENDING_LEASE_SECONDS = 0
    settings.MESSAGE_RECONCILE_AFTER_SECONDS = 0
    assert lifecycle.messages_recover().unsent == 1
    message.refresh_from_db()
    assert message.status == "queued" and message.attempted_at is None
    outbox_sweep(older_than=timedelta(0))
    message.refresh_from_db()
    assert message.status == "created" and _sms_posts(elks) == 1


def test_recover_leaves_unknown_sends_alone_while_46elks_is_unreachable(it, elks, settings) -> None:
    message = _queue(it.tenant, it.number, it.world)
    with mock.patch.object(ElksClient, "sms_send", _lost_answer):
        message_send(message_id=message.pk)
    settings.MESSAGE_RECONCILE_AFTER_SECONDS = 0
    down = ElksError("down", retryable=True)
    with mock.patch.object(ElksClient, "sms_list", side_effect=down):
        assert lifecycle.messages_recover().found == 0
    assert Message.objects.get(pk=message.pk).status == "unknown"
    assert lifecycle.messages_recover().found == 1  # back up: settled
    assert Message.objects.get(pk=message.pk).status in ACCEPTED


def test_history_sync_settles_a_send_whose_worker_died_after_the_attempt(it, elks) -> None:
    message = _queue(it.tenant, it.number, it.world)
    with (
        mock.patch("messaging.services.message_finish", side_effect=WorkerDied),
        pytest.raises(WorkerDied),
    ):
        message_send(message_id=message.pk)
    history_sync(tenant=it.tenant)  # before recover saw the lease expire
    message.refresh_from_db()
    assert message.status in ACCEPTED and message.elks_id
    assert Message.objects.filter(direction="out").count() == 1  # no duplicate from history


def test_history_match_needs_recipient_sender_text_and_time() -> None:
    at = timezone.now()
    margin = timedelta(seconds=20)

    def sms(id_: str, **changes: object) -> Sms:
        fields: dict[str, object] = {
            "id": id_,
            "from_": "+46766860001",
            "to": "+46700000001",
            "message": "Hello",
            "direction": "outgoing",
            "created": at + timedelta(seconds=3),
        }
        fields.update(changes)
        return Sms(**{f.name: fields.get(f.name) for f in dataclasses.fields(Sms)})

    wanted = {"to": "+46700000001", "sender": "+46766860001", "body": "Hello", "attempted": at}
    listed = [
        sms("s-to", to="+46700000002"),
        sms("s-from", from_="+46766860009"),
        sms("s-text", message="Hi"),
        sms("s-late", created=at + timedelta(minutes=1)),
        sms("s-in", direction="incoming"),
        sms("s-taken"),
        sms("s-ok"),
    ]
    found = lifecycle.history_match(listed, **wanted, margin=margin, taken={"s-taken"})
    assert found is not None and found.id == "s-ok"
    assert lifecycle.history_match(listed[:-1], **wanted, margin=margin, taken={"s-taken"}) is None

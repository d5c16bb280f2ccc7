"""The drain's batches: the same final state as one event at a time, poison isolated, and
two drains at once taking disjoint events (each processed exactly once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.customer_webhooks.models import WebhookDelivery
from messaging.models import Conversation, Message, MessagingSettings, OptOut
from numbers.models import PhoneNumber
from providers import events as registry
from providers.models import WebhookEvent
from providers.services import webhook_process, webhooks_drain, webhooks_process_batch

SENDERS = ["+46700000001", "+46700000002", "+46700000003"]
BODIES = ["Hej", "STOP", "START", "Hello again", ""]
BASE = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def number(rented_number, live_tenant):
    """A number that forwards, answers automatically and posts to a customer webhook."""
    PhoneNumber.objects.filter(pk=rented_number.pk).update(
        sms_forward_to="+46709999999",
        sms_autoreply_enabled=True,
        sms_autoreply_text="Thanks, we will call you back.",
        sms_webhook_url="https://hooks.example.com/sms",
    )
    rented_number.refresh_from_db()
    return rented_number


def _store(number: PhoneNumber, kind: str, key: str, payload: dict[str, str]) -> WebhookEvent:
    """A stored event as the callback views store it (duplicates get their own key)."""
    return WebhookEvent.objects.create(
        provider="elks",
        kind=kind,
        dedupe_key=key,
        tenant_id=number.tenant_id,
        number_id=number.pk,
        payload=payload,
        received=timezone.now(),
    )


def _sms(number: PhoneNumber, key: str, elks_id: str, sender: str, body: str, minute: int):
    payload = {
        "id": elks_id,
        "from": sender,
        "to": number.number,
        "message": body,
        "direction": "incoming",
        "created": (BASE + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    return _store(number, "sms", key, payload)


def _outbound(number: PhoneNumber, n: int) -> Message:
    return Message.objects.create(
        tenant_id=number.tenant_id,
        kind="sms",
        direction="out",
        status="created",
        source="dashboard",
        number=number,
        ours=number.number,
        other=f"+4670111000{n}",
        body=f"Out {n}",
        elks_id=f"out-{n}",
    )


def _report(number: PhoneNumber, key: str, message: Message, status: str, minute: int):
    payload = {"id": message.elks_id or "", "status": status, "_token": message.callback_token}
    if status == "delivered":
        payload["delivered"] = (BASE + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S")
    return _store(number, "dlr", key, payload)


def _state(tenant_id: int) -> dict[str, object]:
    """What a customer can see, without ids and processing times."""
    with scopes_disabled():
        messages = sorted(
            (
                m.direction,
                m.source,
                m.status,
                m.ours,
                m.other,
                m.body,
                m.elks_id or "",
                m.created.isoformat() if m.direction == "in" else "",
                m.delivered_at.isoformat() if m.delivered_at else "",
                m.conversation.other if m.conversation else "",
            )
            for m in Message.objects.filter(tenant_id=tenant_id).select_related("conversation")
        )
        conversations = sorted(
            (c.ours, c.other, c.unread, c.last_preview, c.last_direction, c.last_message_at)
            for c in Conversation.objects.filter(tenant_id=tenant_id)
        )
        optouts = list(
            OptOut.objects.filter(tenant_id=tenant_id)
            .order_by("id")
            .values_list("phone", "kind", "word")
        )
        deliveries = sorted(
            WebhookDelivery.objects.filter(tenant_id=tenant_id).values_list(
                "message__elks_id", "url"
            )
        )
        events = sorted(
            WebhookEvent.objects.filter(tenant_id=tenant_id).values_list(
                "dedupe_key", "status", "error"
            )
        )
    return {
        "messages": messages,
        "conversations": conversations,
        "optouts": optouts,
        "deliveries": deliveries,
        "events": events,
    }


def _one_by_one() -> None:
    with scopes_disabled():
        pending = WebhookEvent.objects.filter(status="pending").order_by("received", "id")
        for event_id in list(pending.values_list("id", flat=True)):
            webhook_process(event_id)


def _in_batches(sizes: list[int]) -> None:
    with scopes_disabled():
        for size in sizes:
            webhooks_process_batch(size=size)
        while webhooks_process_batch(size=3):
            pass


class _Rollback(Exception):
    pass


def _run_and_forget(work) -> dict[str, object]:
    """The state `work` leaves, then everything it did rolled back."""
    found: dict[str, object] = {}
    try:
        with transaction.atomic():
            tenant_id = work()
            found = _state(tenant_id)
            raise _Rollback
    except _Rollback:
        pass
    return found


event_spec = st.one_of(
    st.tuples(
        st.just("sms"),
        st.integers(0, 5),  # 46elks id: the same id twice is a duplicate delivery
        st.sampled_from(SENDERS),
        st.sampled_from(BODIES),
        st.integers(0, 3),  # created: ties and out-of-order arrival
    ),
    st.tuples(
        st.just("dlr"),
        st.integers(0, 2),  # which outbound message
        st.sampled_from(["sent", "delivered", "failed"]),
        st.just(""),
        st.integers(0, 3),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(event_spec, min_size=1, max_size=14),
    sizes=st.lists(st.integers(1, 6), max_size=5),
)
def test_batches_leave_the_state_one_by_one_processing_leaves(number, specs, sizes) -> None:
    """Replies and reports shuffled and duplicated (within and across batches): batched
    processing ends where processing the same events one at a time ends."""

    def store() -> int:
        with scope(tenant=number.tenant_id):
            outbound = [_outbound(number, n) for n in range(3)]
        for i, (kind, which, a, b, minute) in enumerate(specs):
            if kind == "sms":
                _sms(number, f"k{i}", f"in-{which}", a, b, minute)
            else:
                _report(number, f"k{i}", outbound[which], a, minute)
        return number.tenant_id

    def one_by_one() -> int:
        tenant_id = store()
        _one_by_one()
        return tenant_id

    def batched() -> int:
        tenant_id = store()
        _in_batches(sizes)
        return tenant_id

    expected = _run_and_forget(one_by_one)
    assert _run_and_forget(batched) == expected


def test_a_poisoned_event_in_a_batch_of_500_fails_alone(number) -> None:
    for i in range(500):
        if i == 250:
            _store(number, "sms", "poison", {"id": "poison", "to": number.number, "message": "x"})
        else:
            _sms(number, f"k{i}", f"in-{i}", SENDERS[i % 3], f"Hello {i}", i % 60)
    with scopes_disabled():
        assert webhooks_process_batch(size=500) == 500
        statuses = dict(WebhookEvent.objects.values_list("dedupe_key", "status"))
        poison = WebhookEvent.objects.get(dedupe_key="poison")
        assert poison.status == "failed" and 'missing field "from"' in poison.error
        assert poison.payload["id"] == "poison"  # the payload stays for staff
        assert sum(s == "processed" for s in statuses.values()) == 499
        assert Message.objects.filter(direction="in").count() == 499
        assert WebhookDelivery.objects.count() == 499


def test_a_batch_handler_that_raises_falls_back_to_one_event_at_a_time(number, monkeypatch) -> None:
    """An error the batch handler did not foresee (here: the handler itself raising) costs
    only the event that causes it: the rest is processed one by one and commits."""
    for i in range(10):
        _sms(number, f"k{i}", f"in-{i}", SENDERS[0], f"Hello {i}", i)
    real = registry.handler_for("elks", "sms")

    def broken_batch(events, failures):
        raise RuntimeError("boom")

    def picky(event):
        if event.dedupe_key == "k3":
            raise ValueError("cannot take this one")
        real(event)

    monkeypatch.setitem(registry._batch_handlers, ("elks", "sms"), broken_batch)
    monkeypatch.setitem(registry._handlers, ("elks", "sms"), picky)
    with scopes_disabled():
        webhooks_process_batch(size=50)
        failed = WebhookEvent.objects.get(status="failed")
        assert failed.dedupe_key == "k3" and "cannot take this one" in failed.error
        assert WebhookEvent.objects.filter(status="processed").count() == 9
        assert Message.objects.filter(direction="in").count() == 9


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_process_each_event_exactly_once(number) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL (CI runs it)")
    total = 400
    for i in range(total):
        _sms(number, f"k{i}", f"in-{i}", f"+467000{i:05d}", f"Hello {i}", i % 60)
    # The stop-word confirmation and auto-reply read the ledger and settings once.
    MessagingSettings.objects.get_or_create(tenant_id=number.tenant_id)
    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def drain() -> None:
        try:
            start.wait()
            with scopes_disabled():
                taken.append(webhooks_drain())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(taken) == total and all(taken)  # both took part, no event twice
    with scopes_disabled():
        assert WebhookEvent.objects.filter(status="processed").count() == total
        assert Message.objects.filter(direction="in").count() == total
        assert Message.objects.filter(source="forward").count() == total
        assert Message.objects.filter(source="autoreply").count() == total
        assert WebhookDelivery.objects.count() == total
        assert Conversation.objects.count() == total


@pytest.fixture
def campaign(live_tenant, settings):
    """A campaign to four contacts, sent (each send logged as a Message), reports pending."""
    from messaging.campaigns.services import campaign_launch, campaign_run
    from tests.messaging.campaigns.test_log import _campaign

    settings.CAMPAIGN_PROVIDER_RATE = 1000
    campaign = _campaign(live_tenant, 4)
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    return campaign


def _campaign_state(campaign) -> dict[str, object]:
    from messaging.campaigns.models import CampaignRecipient

    with scopes_disabled():
        recipients = sorted(
            (r.phone, r.status, r.error, bool(r.delivered_at))
            for r in CampaignRecipient.objects.filter(campaign=campaign)
        )
        logged = sorted(
            (m.other, m.status, m.error, bool(m.delivered_at), bool(m.failed_at), m.cost)
            for m in Message.objects.filter(campaign_recipient__campaign=campaign)
        )
        events = sorted(
            WebhookEvent.objects.filter(kind="cdlr").values_list("dedupe_key", "status", "error")
        )
    return {"recipients": recipients, "logged": logged, "events": events}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(
        st.tuples(
            st.integers(0, 2),  # 2: an id no recipient has
            st.sampled_from(["sent", "delivered", "failed", "bogus"]),
            st.booleans(),  # the campaign's own token, or another
        ),
        min_size=1,
        max_size=12,
    ),
    sizes=st.lists(st.integers(1, 6), max_size=4),
)
def test_campaign_reports_in_batches_end_as_one_by_one(campaign, specs, sizes) -> None:
    from messaging.campaigns.models import CampaignRecipient

    with scopes_disabled():
        ids = list(
            CampaignRecipient.objects.filter(campaign=campaign)
            .order_by("phone")
            .values_list("elks_id", flat=True)[:2]
        )
    ids.append("no-such-send")

    def store() -> None:
        for i, (which, status, own_token) in enumerate(specs):
            WebhookEvent.objects.create(
                provider="elks",
                kind="cdlr",
                dedupe_key=f"c{i}",
                tenant_id=campaign.tenant_id,
                payload={
                    "id": ids[which],
                    "status": status,
                    "_token": campaign.callback_token if own_token else "another-campaign",
                },
                received=timezone.now(),
            )

    def run(process) -> dict[str, object]:
        found: dict[str, object] = {}
        try:
            with transaction.atomic():
                store()
                process()
                found = _campaign_state(campaign)
                raise _Rollback
        except _Rollback:
            pass
        return found

    expected = run(_one_by_one)
    assert run(lambda: _in_batches(sizes)) == expected


def test_odd_bytes_in_a_batch_are_stored_as_received(number, client) -> None:
    """Through the real callback view (NUL becomes U+FFFD there, as PostgreSQL needs), then the
    batch: the messages, the conversation preview (raw SQL) and the forward keep every character."""
    bodies = ["nul\x00byte", "emoji 😀 and ünïcödé", "quote ' and \" and \\ backslash", "x" * 2000]
    for i, body in enumerate(bodies):
        response = client.post(
            f"/hooks/elks/{number.hook_token}/sms/",
            {"id": f"odd-{i}", "from": SENDERS[i % 3], "to": number.number, "message": body},
        )
        assert response.status_code == 200
    with scopes_disabled():
        WebhookEvent.objects.update(status="pending")  # eager mode drained them: once more, batched
        Message.objects.all().delete()
        webhooks_process_batch(size=50)
        stored = dict(Message.objects.filter(direction="in").values_list("elks_id", "body"))
        assert stored["odd-0"] == "nul\ufffdbyte"
        assert stored["odd-1"] == bodies[1] and stored["odd-2"] == bodies[2]
        assert stored["odd-3"] == "x" * 2000
        previews = set(Conversation.objects.values_list("last_preview", flat=True))
        assert "x" * 120 in previews and bodies[2] in previews
        assert WebhookEvent.objects.filter(status="processed").count() == len(bodies)

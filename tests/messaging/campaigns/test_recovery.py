"""A worker killed mid-campaign: never-attempted rows are re-queued (not `unknown`), the
campaign resumes on the next tick, attempted rows are settled with one history walk, and
every recipient is sent exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.campaigns import services as engine
from messaging.campaigns.models import CampaignRecipient
from messaging.campaigns.services import (
    campaign_launch,
    campaign_run,
    campaigns_tick,
    reconcile_unknown,
)
from tests.messaging.campaigns.test_engine import _campaign, _contacts, _sends


class Killed(BaseException):
    """kill -9: nothing in the worker runs after it (not even `except Exception`)."""


@pytest.fixture
def tenant(live_tenant, settings):
    settings.CAMPAIGN_PROVIDER_RATE = 1000
    settings.CAMPAIGN_CLAIM_BATCH = 10
    settings.CAMPAIGN_SENDING_LEASE_SECONDS = 30
    settings.CAMPAIGN_RECONCILE_AFTER_SECONDS = 60
    return live_tenant


def _history_calls(elks) -> int:
    return len(elks.api_requests(method="GET", path="/a1/sms"))


def _kill_on_send(n: int, *, after_post: bool):
    """Kill the worker on its n-th provider call, after 46elks accepted it or before it
    reached 46elks (the row is attempted either way)."""
    from providers.elks.client import ElksClient

    real = ElksClient.sms_send
    calls = {"n": 0}

    def send(self, **kwargs):
        calls["n"] += 1
        if calls["n"] == n and not after_post:
            raise Killed()
        result = real(self, **kwargs)
        if calls["n"] == n:
            raise Killed()
        return result

    return mock.patch.object(ElksClient, "sms_send", send)


def _statuses() -> Counter:
    return Counter(CampaignRecipient.objects.values_list("status", flat=True))


def _tick(at):
    with scopes_disabled(), mock.patch.object(engine, "enqueue_workers") as enqueue:
        campaigns_tick(now=at)
    return enqueue


def test_killed_workers_rows_are_requeued_resumed_and_reconciled_once(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 30))
    campaign_launch(campaign=campaign, actor=None)
    start = timezone.now()
    # Two workers die: one just after 46elks accepted its 4th send (the answer is lost),
    # the other as its 3rd send left (46elks never got it).
    with _kill_on_send(4, after_post=True), pytest.raises(Killed):
        campaign_run(campaign_id=campaign.pk)
    with _kill_on_send(3, after_post=False), pytest.raises(Killed):
        campaign_run(campaign_id=campaign.pk)
    assert _statuses() == {"sent": 5, "sending": 15, "pending": 10}
    attempted = CampaignRecipient.objects.filter(status="sending", attempted_at__isnull=False)
    assert attempted.count() == 2
    history_before = _history_calls(elks)

    # Within the lease nothing moves (the workers might be alive and slow). This tick may
    # start one extra worker the slow way (once per 4 minutes); the next one must not wait.
    _tick(start + timedelta(seconds=20))
    assert _statuses()["sending"] == 15

    # Lease over: never-attempted rows go straight back to the queue (not `unknown`) and the
    # campaign is resumed on this tick; the two attempted rows wait for the history.
    enqueue = _tick(start + timedelta(seconds=35))
    assert _statuses() == {"sent": 5, "unknown": 2, "pending": 23}
    enqueue.assert_called_once()
    assert enqueue.call_args.args[0].pk == campaign.pk
    assert _history_calls(elks) == history_before  # too early to judge: no call yet

    # The resumed worker sends the re-queued rows; the unknown ones are not touched.
    campaign_run(campaign_id=campaign.pk)
    assert _statuses() == {"sent": 28, "unknown": 2}

    # Reconciliation: ONE walk of the history for both rows; the accepted one is found,
    # the one 46elks never got goes back to the queue and is sent once.
    _tick(timezone.now() + timedelta(seconds=61))
    assert _history_calls(elks) == history_before + 1
    assert _statuses() == {"sent": 29, "pending": 1}
    _tick(timezone.now() + timedelta(seconds=62))
    assert _history_calls(elks) == history_before + 1  # nothing left to ask about
    campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    sends = _sends(elks)
    assert len(sends) == 30 and set(sends.values()) == {1}, sends
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}
    assert CampaignRecipient.objects.filter(elks_id__isnull=True).count() == 0


def test_a_stale_worker_cannot_send_a_row_that_was_requeued(tenant, elks) -> None:
    """A worker that stalls past its lease (not dead) finds its rows taken back."""
    campaign = _campaign(tenant, _contacts(tenant, 3))
    campaign_launch(campaign=campaign, actor=None)
    engine.claim_batch(campaign=campaign, size=10)
    stale = list(CampaignRecipient.objects.order_by("id"))
    _tick(timezone.now() + timedelta(seconds=31))  # its lease ran out: re-queued
    assert _statuses() == {"pending": 3}
    engine.claim_batch(campaign=campaign, size=10)  # another worker claims them
    assert not engine._attempt(stale[0], body="x", reserved=0)
    fresh = CampaignRecipient.objects.get(pk=stale[0].pk)
    assert engine._attempt(fresh, body="x", reserved=0)


def test_a_live_worker_renews_its_lease(tenant, elks, settings) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 3))
    campaign_launch(campaign=campaign, actor=None)
    engine.claim_batch(campaign=campaign, size=10)
    rows = list(CampaignRecipient.objects.order_by("id"))
    claimed = rows[0].claimed_at
    later = claimed + timedelta(seconds=25)
    with mock.patch.object(engine.timezone, "now", return_value=later):
        engine._renew(rows)
    assert set(CampaignRecipient.objects.values_list("claimed_at", flat=True)) == {later}
    _tick(claimed + timedelta(seconds=40))  # 40 s after the claim, 15 s after the renewal
    assert _statuses() == {"sending": 3}
    assert engine._attempt(rows[0], body="x", reserved=0)


def test_reconciliation_walks_the_history_once_for_many_rows(tenant, elks, settings) -> None:
    """253 unknown rows (the incident): one paged walk, not one call per row per tick."""
    from providers.elks.client import ElksClient

    campaign = _campaign(tenant, _contacts(tenant, 253))
    campaign_launch(campaign=campaign, actor=None)
    settings.CAMPAIGN_CLAIM_BATCH = 300
    real = ElksClient.sms_send

    def lost_answer(self, **kwargs):
        real(self, **kwargs)
        raise engine.ElksError("answer lost", retryable=True, maybe_accepted=True)

    with mock.patch.object(ElksClient, "sms_send", lost_answer):
        campaign_run(campaign_id=campaign.pk)
    assert _statuses() == {"unknown": 253}
    before = _history_calls(elks)
    assert reconcile_unknown(campaign=campaign, now=timezone.now() + timedelta(seconds=61)) == 253
    assert _history_calls(elks) - before == 3  # 253 rows, pages of 100
    assert _statuses() == {"sent": 253}
    assert set(_sends(elks).values()) == {1}


def test_one_lost_answer_is_looked_up_by_recipient_not_by_a_walk(tenant, elks) -> None:
    """A walk of a busy window takes many pages; a killed worker leaves one row: one call."""
    from providers.clients import elks_for_tenant

    campaign = _campaign(tenant, _contacts(tenant, 25))
    campaign_launch(campaign=campaign, actor=None)

    def small_pages(tenant):
        client = elks_for_tenant(tenant)
        client.page_size = 10  # 25 sends in the window: a walk would take 3 pages
        return client

    with _kill_on_send(13, after_post=True), pytest.raises(Killed):
        campaign_run(campaign_id=campaign.pk)
    _tick(timezone.now() + timedelta(seconds=31))
    campaign_run(campaign_id=campaign.pk)
    assert _statuses() == {"sent": 24, "unknown": 1}
    before = elks.api_requests(method="GET", path="/a1/sms")
    with mock.patch.object(engine, "elks_for_tenant", small_pages):
        assert reconcile_unknown(campaign=campaign, now=timezone.now() + timedelta(seconds=61)) == 1
    calls = elks.api_requests(method="GET", path="/a1/sms")[len(before) :]
    assert len(calls) == 1 and calls[0]["params"].get("to")
    assert _statuses() == {"sent": 25}
    assert len(_sends(elks)) == 25 and set(_sends(elks).values()) == {1}


def test_the_tick_asks_the_history_only_when_an_unknown_row_is_due(tenant, elks) -> None:
    campaign = _campaign(tenant, _contacts(tenant, 3))
    campaign_launch(campaign=campaign, actor=None)
    campaign_run(campaign_id=campaign.pk)
    now = timezone.now()
    CampaignRecipient.objects.update(attempted_at=now - timedelta(minutes=5))  # old sends
    fresh = CampaignRecipient.objects.order_by("id").first()
    CampaignRecipient.objects.filter(pk=fresh.pk).update(
        status="unknown", attempted_at=now, elks_id=None
    )
    before = _history_calls(elks)
    _tick(now + timedelta(seconds=10))  # the unknown row is 10 s old: not yet
    assert _history_calls(elks) == before
    _tick(now + timedelta(seconds=61))
    assert _history_calls(elks) == before + 1
    assert _statuses() == {"sent": 3}

"""The lease every outbound send shares (messaging.lease), run over both kinds of send: a
single message (`Message`) and a campaign recipient (`CampaignRecipient`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.services import RECIPIENT
from messaging.lease import (
    WORKER_DIED,
    Lease,
    lease_attempt,
    lease_claim_batch,
    lease_claim_one,
    lease_finish,
    lease_recover,
    lease_release,
    lease_renew,
    lease_settle,
)
from messaging.lifecycle import MESSAGE
from tests.messaging.test_send_lifecycle import _queue


@dataclass
class Kind:
    lease: Lease
    new: Callable[[], int]  # a queued row's id

    def load(self, pk: int) -> Any:
        return self.lease.model._default_manager.get(pk=pk)

    def claimed(self) -> Any:
        pk = self.new()
        assert lease_claim_one(self.lease, pk=pk)
        return self.load(pk)


@pytest.fixture(params=["message", "recipient"])
def kind(request, world, live_tenant, rented_number, settings) -> Kind:
    settings.MESSAGE_SENDING_LEASE_SECONDS = 30
    settings.CAMPAIGN_SENDING_LEASE_SECONDS = 30
    if request.param == "message":
        return Kind(MESSAGE, lambda: _queue(live_tenant, rented_number, world).pk)
    campaign = Campaign.objects.create(
        tenant=live_tenant, name="Lease", sender="Shop", template="Hi"
    )
    phones = iter(range(1000))

    def recipient() -> int:
        return CampaignRecipient.objects.create(
            tenant=live_tenant, campaign=campaign, phone=f"+4670{next(phones):07d}"
        ).pk

    return Kind(RECIPIENT, recipient)


def test_a_row_is_claimed_once(kind: Kind) -> None:
    pk = kind.new()
    assert lease_claim_one(kind.lease, pk=pk)
    assert not lease_claim_one(kind.lease, pk=pk)  # a second worker
    row = kind.load(pk)
    assert row.status == kind.lease.sending and row.claimed_at and row.attempted_at is None

    batch = sorted([kind.new(), kind.new(), kind.new()])
    among = Q(pk__in=[pk, *batch])
    assert lease_claim_batch(kind.lease, among=among, size=2) == batch[:2]  # in id order
    assert lease_claim_batch(kind.lease, among=among, size=10) == batch[2:]
    assert lease_claim_batch(kind.lease, among=among, size=10) == []
    # Stored as the ORM stores it: the claim is matched by value in every later step.
    assert lease_attempt(kind.lease, kind.load(batch[0]))


def test_renew_extends_only_a_claim_still_held(kind: Kind) -> None:
    row = kind.claimed()
    stale = kind.load(row.pk)
    later = row.claimed_at + timedelta(seconds=20)
    assert lease_renew(kind.lease, [row], now=later) == 1
    assert row.claimed_at == later and kind.load(row.pk).claimed_at == later
    assert lease_renew(kind.lease, [stale]) == 0  # another holder renewed since
    assert stale.claimed_at != later  # so none of its later steps move the row
    assert not lease_attempt(kind.lease, stale)
    assert lease_attempt(kind.lease, row)


def test_attempt_is_refused_once_the_lease_was_taken_back(kind: Kind) -> None:
    row = kind.claimed()
    assert lease_attempt(kind.lease, row)
    assert row.attempted_at is not None
    assert not lease_attempt(kind.lease, row)  # the call began already

    slow = kind.claimed()
    assert lease_recover(kind.lease, now=timezone.now() + timedelta(seconds=31)).requeued == 1
    assert kind.load(slow.pk).status == kind.lease.queued
    assert not lease_attempt(kind.lease, slow)  # the slow worker must not send
    assert lease_claim_one(kind.lease, pk=slow.pk)  # the next worker's turn
    assert lease_attempt(kind.lease, kind.load(slow.pk))


def test_finish_only_from_in_flight_and_only_for_this_claim(kind: Kind) -> None:
    queued = kind.load(kind.new())
    assert not lease_finish(kind.lease, queued, status="failed")  # never claimed

    row = kind.claimed()
    older = kind.load(row.pk)
    older.claimed_at = row.claimed_at - timedelta(minutes=1)  # an older claim's worker
    assert not lease_finish(kind.lease, older, status="failed")
    assert lease_finish(kind.lease, row, status="failed", error="refused")
    assert not lease_finish(kind.lease, row, status="failed")  # already finished
    assert (kind.load(row.pk).status, kind.load(row.pk).error) == ("failed", "refused")

    late = kind.claimed()
    assert lease_attempt(kind.lease, late)
    assert lease_recover(kind.lease, now=timezone.now() + timedelta(seconds=31)).unknown == 1
    assert lease_finish(kind.lease, late, status="failed")  # an answer after recover: kept


def test_recover_requeues_the_never_attempted_and_makes_the_attempted_unknown(
    kind: Kind,
) -> None:
    idle, begun = kind.claimed(), kind.claimed()
    assert lease_attempt(kind.lease, begun)
    now = timezone.now()
    assert lease_recover(kind.lease, now=now + timedelta(seconds=20)) == (0, 0)  # alive
    assert lease_recover(kind.lease, now=now + timedelta(seconds=31)) == (1, 1)
    idle, begun = kind.load(idle.pk), kind.load(begun.pk)
    assert (idle.status, idle.claimed_at, idle.attempted_at) == (kind.lease.queued, None, None)
    assert (begun.status, begun.error) == (kind.lease.unknown, WORKER_DIED)
    assert lease_recover(kind.lease, now=now + timedelta(seconds=60)) == (0, 0)


def test_a_late_attempt_keeps_its_claim_for_a_whole_lease(kind: Kind) -> None:
    """A worker renews between sends, not during the provider call: the attempt counts."""
    row = kind.claimed()
    assert lease_attempt(kind.lease, row, now=row.claimed_at + timedelta(seconds=25))
    assert lease_recover(kind.lease, now=row.claimed_at + timedelta(seconds=40)) == (0, 0)
    assert lease_recover(kind.lease, now=row.claimed_at + timedelta(seconds=56)) == (0, 1)


def test_release_gives_back_only_rows_still_held(kind: Kind) -> None:
    taken = kind.claimed()
    assert lease_recover(kind.lease, now=timezone.now() + timedelta(seconds=31)).requeued == 1
    assert lease_claim_one(kind.lease, pk=taken.pk)  # another worker holds it now
    assert lease_release(kind.lease, [taken]) == 0  # our old claim: not ours to give back
    assert kind.load(taken.pk).status == kind.lease.sending

    row = kind.claimed()
    assert lease_release(kind.lease, [row]) == 1
    row = kind.load(row.pk)
    assert (row.status, row.claimed_at, row.attempted_at) == (kind.lease.queued, None, None)


def test_settle_moves_only_unknown_rows_and_requeues_them_clean(kind: Kind) -> None:
    row = kind.claimed()
    assert not lease_settle(kind.lease, row, status=kind.lease.queued)  # still sending
    assert lease_attempt(kind.lease, row)
    assert lease_finish(kind.lease, row, status=kind.lease.unknown, error="answer lost")
    assert lease_settle(kind.lease, row, status=kind.lease.queued)
    row = kind.load(row.pk)
    assert (row.status, row.claimed_at, row.attempted_at) == (kind.lease.queued, None, None)
    assert all(getattr(row, name) == value for name, value in kind.lease.reset.items())
    assert not lease_settle(kind.lease, row, status="failed")  # no longer unknown

"""The lease every outbound send goes through: claim, renew, attempt, finish, recover, settle.

Invariant: a row is sent at most once, and no row stays `sending` or `unknown` for ever.
Every step is one conditional UPDATE that moves the row only if it is still where the
caller left it (its status, and its claim: `claimed_at` as the caller read it), so a
retried task, a second worker or a late answer cannot move it twice.

    queued  --claim-->    sending   claimed_at = now: the worker's lease (one row or a batch)
    sending --renew-->    sending   claimed_at = now, only while the claim is still ours
    sending --attempt-->  sending   attempted_at = now, committed BEFORE the provider call
    sending --finish-->   any       the provider's answer, or a refusal before the call
    unknown --finish-->   any       an answer that came after recover gave up on the lease
    sending --release-->  queued    rows the worker will not send now (paused, 429, stopped)
    recover, for claims neither renewed nor attempted within the lease (a dead worker):
      never attempted --> queued    nothing reached the provider
      attempted       --> unknown   the provider may have it; never resent blindly
    unknown --settle-->   any       the verdict of the provider's history (found, or absent)

A row that goes back to the queue loses its claim and attempt, and the lease's `reset`
fields. One `Lease` describes each kind of send; its model has `status`, `claimed_at`,
`attempted_at` and `error` fields:
- `messaging.lifecycle.MESSAGE`: one-off sends (`Message`, queued → sending → ...);
- `messaging.campaigns.services.RECIPIENT`: campaign sends (`CampaignRecipient`, pending →
  sending → ...), claimed by the batch.
Matching a send in the provider's history is the callers' part (`messaging.lifecycle`
`history_match`), as is what a step costs or logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Field, Model, Q, QuerySet
from django.utils import timezone

# What an expired claim that had begun its provider call says until the history settles it.
WORKER_DIED = "The worker stopped during the send; checking 46elks."


class Leased(Protocol):
    """A row of a leased model, as read by the worker that holds (or held) its claim."""

    pk: Any
    status: Any
    claimed_at: Any
    attempted_at: Any


@dataclass(frozen=True)
class Lease:
    """One kind of send: its model, its three lifecycle statuses and its lease length."""

    model: type[Model]
    queued: str
    sending: str
    unknown: str
    # The setting that holds how long a claim lasts without renewal, in seconds (read at
    # each recover, so a test or an operator may change it).
    seconds_setting: str
    # A field set to now on every move the row's readers should see (renewals are not).
    stamp: str | None = None
    # Fields put back to these values when a row returns to the queue.
    reset: Mapping[str, object] = field(default_factory=dict)

    @property
    def in_flight(self) -> tuple[str, str]:
        """The statuses an answer may still be recorded in."""
        return (self.sending, self.unknown)

    def rows(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def stamped(self, now: datetime, **fields: object) -> dict[str, object]:
        return {**fields, self.stamp: now} if self.stamp else fields

    def requeued(self, now: datetime, **fields: object) -> dict[str, object]:
        """The fields of a row going back to the queue: no claim, no attempt, `reset`."""
        return self.stamped(
            now,
            status=self.queued,
            claimed_at=None,
            attempted_at=None,
            **{**self.reset, **fields},
        )


class Reclaimed(NamedTuple):
    requeued: int
    unknown: int


# --- the worker's steps --------------------------------------------------------------------


def lease_claim_one(lease: Lease, *, pk: int, now: datetime | None = None) -> bool:
    """queued → sending with a fresh lease; False when another worker won it."""
    now = now or timezone.now()
    moved = (
        lease.rows()
        .filter(pk=pk, status=lease.queued)
        .update(**lease.stamped(now, status=lease.sending, claimed_at=now, attempted_at=None))
    )
    return bool(moved)


def lease_claim_batch(
    lease: Lease, *, among: Q, size: int, now: datetime | None = None
) -> list[int]:
    """Move up to `size` queued rows matching `among` to `sending`, for this worker alone,
    in id order; their ids. One UPDATE over a pick that skips rows another worker has
    locked on PostgreSQL (FOR UPDATE SKIP LOCKED); SQLite serialises writers, so there the
    UPDATE's own status check is enough."""
    now = now or timezone.now()
    candidates = (
        lease.rows()
        .filter(among, status=lease.queued)
        .order_by("pk")
        .values_list("pk", flat=True)[:size]
    )
    connection = connections[candidates.db]
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True)
    meta = lease.model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(cast("Field[Any, Any]", meta.get_field(name)).column)

    # Stored as the ORM stores it, so the claim can be matched by value later (attempt).
    stamp = connection.ops.adapt_datetimefield_value(now)
    moved: dict[str, Any] = {"status": lease.sending, "claimed_at": stamp, "attempted_at": None}
    if lease.stamp:
        moved[lease.stamp] = stamp
    assignments = ", ".join(f"{column(name)} = %s" for name in moved)
    pk = quote(meta.pk.column)
    with transaction.atomic(using=candidates.db), connection.cursor() as cursor:
        select, params = candidates.query.get_compiler(using=candidates.db).as_sql()
        # The pick is materialised so that it runs once. As a plain `IN (sub-select)` the
        # planner may run it again for each row, and each run skips the rows this UPDATE
        # has already moved and picks the next ones: a batch of 10 claimed 30.
        cursor.execute(
            f"WITH picked AS MATERIALIZED ({select}) "
            f"UPDATE {quote(meta.db_table)} SET {assignments} "
            f"WHERE {pk} IN (SELECT * FROM picked) AND {column('status')} = %s "
            f"RETURNING {pk}",
            [*params, *moved.values(), lease.queued],
        )
        return sorted(row[0] for row in cursor.fetchall())


def lease_renew(lease: Lease, rows: Iterable[Leased], *, now: datetime | None = None) -> int:
    """Extend the lease on the rows still held by this claim (a dead worker stops renewing);
    the rows that were taken back keep their old `claimed_at`, so no later step of this
    worker moves them. Returns how many were renewed."""
    now = now or timezone.now()
    held: dict[datetime, list[Leased]] = {}
    for row in rows:
        if row.claimed_at is not None:
            held.setdefault(row.claimed_at, []).append(row)
    renewed = 0
    for claimed_at, group in held.items():
        pks = {row.pk for row in group}
        mine = lease.rows().filter(pk__in=pks, status=lease.sending, claimed_at=claimed_at)
        count = mine.update(claimed_at=now)
        if count < len(pks):  # some were taken back: find the ones that are still ours
            pks = set(
                lease.rows()
                .filter(pk__in=pks, status=lease.sending, claimed_at=now)
                .values_list("pk", flat=True)
            )
        for row in group:
            if row.pk in pks:
                row.claimed_at = now
        renewed += count
    return renewed


def lease_attempt(
    lease: Lease, row: Leased, *, now: datetime | None = None, **fields: object
) -> bool:
    """Record that the provider call is about to start (with `fields`, e.g. what is sent);
    False when the claim is no longer ours (its lease ran out and recover took it back):
    then the caller must not send.

    Must run outside a transaction, so the mark is committed before the provider is called.
    """
    now = now or timezone.now()
    attempted = (
        lease.rows()
        .filter(pk=row.pk, status=lease.sending, claimed_at=row.claimed_at, attempted_at=None)
        .update(**lease.stamped(now, attempted_at=now, **fields))
    )
    if attempted:
        row.attempted_at = now
    return bool(attempted)


def lease_finish(
    lease: Lease, row: Leased, *, status: str, now: datetime | None = None, **fields: object
) -> bool:
    """Record the outcome of this claim (the provider's answer, or a refusal before it),
    from `sending` or from `unknown`: an answer that arrives after recover gave up on the
    lease is still kept (it carries the provider's id)."""
    now = now or timezone.now()
    finished = (
        lease.rows()
        .filter(pk=row.pk, status__in=lease.in_flight, claimed_at=row.claimed_at)
        .update(**lease.stamped(now, status=status, **fields))
    )
    if finished:
        row.status = status
    return bool(finished)


def lease_release(
    lease: Lease, rows: Iterable[Leased], *, now: datetime | None = None, **fields: object
) -> int:
    """Give back rows this claim still holds: back to the queue in their place (same ids),
    with `fields` (e.g. not before a time). For rows never attempted, or whose attempt the
    provider refused outright (a 429): the caller vouches that nothing was sent."""
    now = now or timezone.now()
    held: dict[datetime | None, list[Any]] = {}
    for row in rows:
        held.setdefault(row.claimed_at, []).append(row.pk)
    released = 0
    for claimed_at, pks in held.items():
        released += (
            lease.rows()
            .filter(pk__in=pks, status=lease.sending, claimed_at=claimed_at)
            .update(**lease.requeued(now, **fields))
        )
    return released


# --- recovery (beat) -----------------------------------------------------------------------


def lease_expired(lease: Lease, *, now: datetime | None = None) -> QuerySet[Any]:
    """Claims whose worker is dead: neither renewed nor attempted within the lease (a live
    worker renews between sends, and its provider call ends within the lease)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=getattr(settings, lease.seconds_setting))
    return lease.rows().filter(
        Q(attempted_at=None) | Q(attempted_at__lt=stale),
        status=lease.sending,
        claimed_at__lt=stale,
    )


def lease_recover(
    lease: Lease, *, now: datetime | None = None, error: str = WORKER_DIED
) -> Reclaimed:
    """Take back dead workers' claims: never attempted → queued (nothing was sent);
    attempted → unknown with `error`, for the provider's history to settle."""
    now = now or timezone.now()
    expired = lease_expired(lease, now=now)
    requeued = expired.filter(attempted_at=None).update(**lease.requeued(now))
    unknown = expired.exclude(attempted_at=None).update(
        **lease.stamped(now, status=lease.unknown, error=error)
    )
    return Reclaimed(requeued=requeued, unknown=unknown)


def lease_settle(
    lease: Lease, row: Leased, *, status: str, now: datetime | None = None, **fields: object
) -> bool:
    """unknown → `status`, the verdict of the provider's history: found (its status and id)
    or absent (failed, or back to the queue to be sent once more)."""
    now = now or timezone.now()
    values = (
        lease.requeued(now, **fields)
        if status == lease.queued
        else lease.stamped(now, status=status, **fields)
    )
    settled = lease.rows().filter(pk=row.pk, status=lease.unknown).update(**values)
    if settled:
        row.status = status
    return bool(settled)

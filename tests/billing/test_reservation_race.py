"""Limits hold under concurrency on PostgreSQL: threads with their own connections reserve
against one account at the same moment.

First the race is shown with a deliberately naive read-compare-save reservation (both threads
read, both see room, both write: more is granted than the limit allows); then the same
schedule through `billing.services.spend_reserve` (one conditional UPDATE) grants exactly what
fits, and a many-thread burst never takes the account over its limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from billing.models import BillingAccount
from billing.services import spend_reserve
from tests.factories import TenantFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-level concurrency needs PostgreSQL"
    ),
]

LIMIT = 100_000


def naive_reserve(*, tenant_id: int, amount: int, between: Callable[[], None]) -> bool:
    """Read, compare in Python, write back: what the project forbids (the race to show)."""
    account = BillingAccount.objects.get(pk=tenant_id)
    fits = account.period_spent + account.reserved + amount <= account.monthly_limit
    between()  # the other process reads here too
    if fits:
        account.reserved = account.reserved + amount
        account.save(update_fields=["reserved"])
    return fits


def _run(workers: list[Callable[[], bool]]) -> list[bool]:
    results: list[bool | None] = [None] * len(workers)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            results[i] = workers[i]()
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return [bool(r) for r in results]


@pytest.fixture
def account() -> BillingAccount:
    tenant = TenantFactory()
    BillingAccount.objects.filter(pk=tenant.pk).update(
        monthly_limit=LIMIT, period_spent=0, reserved=0
    )
    return BillingAccount.objects.get(pk=tenant.pk)


def test_naive_read_compare_save_overspends(account: BillingAccount) -> None:
    both_read = threading.Barrier(2, timeout=10)
    granted = _run(
        [
            lambda: naive_reserve(tenant_id=account.pk, amount=60_000, between=both_read.wait),
            lambda: naive_reserve(tenant_id=account.pk, amount=60_000, between=both_read.wait),
        ]
    )
    account.refresh_from_db()
    # Both were told yes: 120_000 granted against a 100_000 limit, and one write was lost.
    assert granted == [True, True]
    assert sum(60_000 for ok in granted if ok) > LIMIT
    assert account.reserved == 60_000


def test_spend_reserve_holds_on_the_same_schedule(account: BillingAccount) -> None:
    together = threading.Barrier(2, timeout=10)

    def reserve() -> bool:
        together.wait()
        return spend_reserve(tenant_id=account.pk, amount=60_000)

    granted = _run([reserve, reserve])
    account.refresh_from_db()
    assert sorted(granted) == [False, True]
    assert account.reserved == 60_000 <= LIMIT


def test_a_burst_never_exceeds_the_limit(account: BillingAccount) -> None:
    threads, attempts, amount = 8, 25, 700
    start = threading.Barrier(threads, timeout=10)

    def worker() -> int:
        start.wait()
        return sum(spend_reserve(tenant_id=account.pk, amount=amount) for _ in range(attempts))

    counts: list[int] = [0] * threads

    def make(i: int) -> Callable[[], bool]:
        def run() -> bool:
            counts[i] = worker()
            return True

        return run

    _run([make(i) for i in range(threads)])
    account.refresh_from_db()
    granted = sum(counts) * amount
    assert granted == account.reserved <= LIMIT
    assert LIMIT - granted < amount  # and everything that fitted was granted

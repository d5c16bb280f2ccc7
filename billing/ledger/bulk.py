"""Rating many first-time events at once: a webhook drain's inbound messages.

`usage_record` reads a source's earlier entries before it appends, so it costs a few queries
per event. A batch handler that has just inserted the rows it rates knows their sources are
new (their primary keys did not exist before): `usage_record_new` prices them with one
`Rater`, appends their entries and daily deltas in two INSERTs, and settles each tenant's
account in one UPDATE. The entries are the ones `usage_record` would append, one by one.
"""

from __future__ import annotations

from collections import defaultdict

from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage, UsageEntry
from billing.ledger.services import Rater, UsageEvent
from billing.periods import local_day
from billing.plans.pricing import Priced
from billing.services import spend_settle


def usage_price_new(*, tenant_id: int, event: UsageEvent, rater: Rater) -> Priced:
    """What `usage_record_new` will bill for `event` (to store the price on the row first)."""
    return rater.price(rater.book_for(tenant_id, event.occurred_at), event)


def usage_record_new(*, events: list[tuple[int, UsageEvent]], rater: Rater) -> int:
    """Append entry 0 of each (tenant id, event) whose source has no entry yet (the caller
    vouches for that) and settle the accounts; free events append nothing. Call it inside the
    transaction that recorded the events. Returns the entries appended."""
    entries: list[UsageEntry] = []
    daily: dict[tuple[int, object, str, int | None], DailyUsage] = {}
    spent: dict[int, int] = defaultdict(int)
    for tenant_id, event in events:
        book = rater.book_for(tenant_id, event.occurred_at)
        priced = rater.price(book, event)
        if priced.price == 0 and priced.provider_cost == 0:
            continue
        day = local_day(rater.account(tenant_id).time_zone)
        entries.append(
            UsageEntry(
                tenant_id=tenant_id,
                kind=event.kind,
                source=event.source,
                seq=0,
                number_id=event.number_id,
                country=(event.country or "")[:2],
                quantity=priced.quantity,
                provider_cost=priced.provider_cost,
                price=priced.price,
                estimated=priced.estimated,
                plan_version=book.version,
                occurred_at=event.occurred_at,
                day=day,
            )
        )
        key = (tenant_id, day, event.kind, event.number_id)
        row = daily.get(key)
        if row is None:
            row = daily[key] = DailyUsage(
                tenant_id=tenant_id, day=day, kind=event.kind, number_id=event.number_id
            )
        row.events += 1
        row.quantity += priced.quantity
        row.provider_cost += priced.provider_cost
        row.price += priced.price
        spent[tenant_id] += priced.price
    if not entries:
        return 0
    with scopes_disabled():  # the batch spans tenants; each row carries its own
        UsageEntry.objects.bulk_create(entries)
        DailyUsage.objects.bulk_create(list(daily.values()))
    for tenant_id, price in spent.items():
        spend_settle(tenant_id=tenant_id, price=price, release=0)
    return len(entries)

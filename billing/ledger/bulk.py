"""Rating many first-time events at once: a webhook drain's inbound messages, a campaign send.

`usage_record` reads a source's earlier entries before it appends, so it costs a few queries
per event. A caller that has just recorded the events it rates knows their sources are new
(rows it inserted, sends its own claim made): `NewUsage` prices each event once (before the
caller's INSERT, so the price can go on the row itself), then appends all their entries in
one INSERT, their daily deltas in another, and settles each tenant's account in one UPDATE.
The entries are the ones `usage_record` would append one by one; the unique (tenant,
source, seq) constraint refuses a source that was not new after all.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date

from django.db import connection
from django.utils import timezone

from billing.ledger.models import DailyUsage, UsageEntry
from billing.ledger.services import Rater, UsageEvent
from billing.periods import current_period, local_day
from billing.plans.pricing import PlanBook, Priced
from billing.services import account_settle

DAILY_COLUMNS = (
    "tenant_id", "day", "kind", "number_id", "events", "quantity", "provider_cost", "price",
    "squashed",
)  # fmt: skip
COLUMNS = (
    "tenant_id", "kind", "source", "seq", "number_id", "country", "quantity", "provider_cost",
    "price", "estimated", "plan_version_id", "occurred_at", "day", "created",
)  # fmt: skip


@dataclasses.dataclass
class NewUsage:
    """First-time events of one batch: `price` each, then `record` them all."""

    rater: Rater = dataclasses.field(default_factory=Rater)
    pending: list[tuple[int, UsageEvent, PlanBook, Priced]] = dataclasses.field(
        default_factory=list
    )

    def price(self, *, tenant_id: int, event: UsageEvent) -> Priced:
        """The event's price at the tenant's plan; kept for `record`."""
        book = self.rater.book_for(tenant_id, event.occurred_at)
        priced = self.rater.price(book, event)
        self.pending.append((tenant_id, event, book, priced))
        return priced

    def record(
        self, *, sources: list[str] | None = None, release: dict[int, int] | None = None
    ) -> int:
        """Append entry 0 of every priced event (free ones append nothing) and settle the
        accounts, releasing `release` (tenant id → amount) of their reservations. `sources`,
        in the order priced, names events priced before their rows had ids. Call it in the
        transaction that recorded the events. Returns the entries appended."""
        pending, self.pending = self.pending, []
        names = sources if sources is not None else [e.source for _, e, _, _ in pending]
        now = timezone.now()
        ops = connection.ops
        created = ops.adapt_datetimefield_value(now)
        rows: list[tuple[object, ...]] = []
        daily: dict[tuple[int, date, str, int | None], list[int]] = {}
        spent: dict[int, int] = defaultdict(int)
        days: dict[int, tuple[date, object]] = {}
        for (tenant_id, event, book, priced), source in zip(pending, names, strict=True):
            if priced.price == 0 and priced.provider_cost == 0:
                continue
            if tenant_id not in days:  # billed on the tenant's local day of appending
                day = local_day(self.rater.account(tenant_id).time_zone, now)
                days[tenant_id] = day, ops.adapt_datefield_value(day)
            day, day_value = days[tenant_id]
            rows.append((
                tenant_id, event.kind, source, 0, event.number_id, (event.country or "")[:2],
                priced.quantity, priced.provider_cost, priced.price, priced.estimated,
                book.version.pk, ops.adapt_datetimefield_value(event.occurred_at), day_value,
                created,
            ))  # fmt: skip
            sums = daily.setdefault((tenant_id, day, event.kind, event.number_id), [0, 0, 0, 0])
            sums[0] += 1
            sums[1] += priced.quantity
            sums[2] += priced.provider_cost
            sums[3] += priced.price
            spent[tenant_id] += priced.price
        if rows:
            _insert(UsageEntry._meta.db_table, COLUMNS, rows)
            _insert(
                DailyUsage._meta.db_table,
                DAILY_COLUMNS,
                [
                    (t, ops.adapt_datefield_value(d), k, n, *sums, False)
                    for (t, d, k, n), sums in daily.items()
                ],
            )
        release = release or {}
        for tenant_id in spent.keys() | release.keys():
            account = self.rater.account(tenant_id)
            account_settle(
                tenant_id=tenant_id,
                price=spent.get(tenant_id, 0),
                release=release.get(tenant_id, 0),
                period=current_period(account.time_zone, now),
            )
        return len(rows)


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """All rows at once: COPY on PostgreSQL, one prepared INSERT (`executemany`) elsewhere.
    The ORM's bulk_create compiles every object (~0.1 ms a row), and a multi-row INSERT
    with thousands of placeholders costs psycopg more to parse than its rows to send."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
        cursor.executemany(sql, rows)  # type: ignore[arg-type]  # plain values, adapted

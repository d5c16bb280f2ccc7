"""Merge the day's usage delta rows into one squashed row per (tenant, day, kind, number).

Rating appends a delta row per entry (no counter row is updated by two sends at once); this
job, run by the `usage-squash` beat task under a lock, folds them. It claims delta rows with
`FOR UPDATE SKIP LOCKED` (PostgreSQL), so a second runner takes other rows or none, sums
them per key, adds the sums to the squashed rows and deletes the deltas, in one transaction.
Readers sum squashed and delta rows alike, so the totals are the same before and after.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.db.models import F
from django_scopes import scopes_disabled

from billing.ledger.models import DailyUsage, MonthlyUsage
from billing.periods import period_of

Key = tuple[int, date, str, int | None]


def usage_squash(*, batch: int = 20_000) -> int:
    """Fold up to `batch` delta rows; returns how many were folded."""
    with scopes_disabled(), transaction.atomic():
        claim = DailyUsage.objects.filter(squashed=False).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True)
        rows = list(
            claim.values_list(
                "id", "tenant_id", "day", "kind", "number_id", "events", "quantity",
                "provider_cost", "price",
            )[:batch]
        )  # fmt: skip
        if not rows:
            return 0
        sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for row in rows:
            acc = sums[(row[1], row[2], row[3], row[4])]
            for i, figure in enumerate(row[5:]):
                acc[i] += int(figure)
        for (tenant_id, day, kind, number_id), figures in sums.items():
            events, quantity, cost, price = figures
            updated = DailyUsage.objects.filter(
                tenant_id=tenant_id, day=day, kind=kind, number_id=number_id, squashed=True
            ).update(
                events=F("events") + events,
                quantity=F("quantity") + quantity,
                provider_cost=F("provider_cost") + cost,
                price=F("price") + price,
            )
            if not updated:
                DailyUsage.objects.create(
                    tenant_id=tenant_id, day=day, kind=kind, number_id=number_id,
                    events=events, quantity=quantity, provider_cost=cost, price=price,
                    squashed=True,
                )  # fmt: skip
        _months_add(sums)
        DailyUsage.objects.filter(id__in=[r[0] for r in rows]).delete()
    return len(rows)


def _months_add(sums: dict[Key, list[int]]) -> None:
    """Add the folded figures to the monthly rows, in the same transaction."""
    months: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (tenant_id, day, kind, _), figures in sums.items():
        acc = months[(tenant_id, period_of(day), kind)]
        for i, figure in enumerate(figures):
            acc[i] += figure
    for (tenant_id, period, kind), (events, quantity, cost, price) in months.items():
        updated = MonthlyUsage.objects.filter(tenant_id=tenant_id, period=period, kind=kind).update(
            events=F("events") + events,
            quantity=F("quantity") + quantity,
            provider_cost=F("provider_cost") + cost,
            price=F("price") + price,
        )
        if not updated:
            MonthlyUsage.objects.create(
                tenant_id=tenant_id, period=period, kind=kind, events=events,
                quantity=quantity, provider_cost=cost, price=price,
            )  # fmt: skip
